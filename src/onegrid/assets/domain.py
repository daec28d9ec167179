"""Categories and components (部件) as plain values, with the rules for their codes and states.

A component's 16-digit ID is 6-digit county admin code + 2-digit major class + 2-digit minor class
+ 6-digit sequence (e.g. ``3205080101000001``: a water-supply manhole cover in Suzhou Gusu). The
class is therefore part of the identity: a component never changes class, it is retired and a new
one recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from onegrid.core.errors import Conflict, FieldProblem, InvalidInput


class Kind(StrEnum):
    COMPONENT = "component"
    EVENT = "event"

    @property
    def prefix(self) -> str:
        return "C" if self is Kind.COMPONENT else "E"


class Urgency(StrEnum):
    """The default urgency a case of a category starts with; handlers may raise it."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


CATEGORY_CODE = re.compile(r"^([CE])(\d{2})(\d{2})$")
TWO_DIGITS = re.compile(r"^\d{2}$")


def category_code(kind: Kind, major: str, minor: str) -> str:
    return f"{kind.prefix}{major}{minor}"


@dataclass(frozen=True)
class Category:
    """One class of the taxonomy: ``C0101`` (a component class) or ``E0402`` (an event class)."""

    code: str
    kind: Kind
    major: str
    minor: str
    name_zh: str
    name_en: str
    major_name_zh: str = ""
    major_name_en: str = ""
    keywords_zh: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()
    urgency: Urgency = Urgency.NORMAL
    emergency: bool = False
    # A deactivated class stays in its taxonomy, so the cases and components filed under it
    # keep their names and rules; no form offers it, and no new report may choose it.
    active: bool = True

    def search_score(self, text: str) -> int:
        """How well ``text`` names this category: 0 means not at all.

        An exact code or name beats a name containing the text, which beats a keyword; the
        reverse test (the text contains a keyword) lets a sentence such as "小区门口井盖丢了"
        find the manhole-cover classes.
        """
        query = text.strip().lower()
        if not query:
            return 0
        if query in (self.code.lower(), self.name_zh, self.name_en.lower()):
            return 100
        if query in self.name_zh or query in self.name_en.lower():
            return 60
        score = 0
        for word in (*self.keywords_zh, *(k.lower() for k in self.keywords_en)):
            if query == word:
                score = max(score, 50)
            elif query in word:
                score = max(score, 30)
            elif len(word) >= 2 and word in query:
                score = max(score, 20 + min(len(word), 9))
        if self.name_zh and self.name_zh in query:
            score = max(score, 40)
        if query in (self.major_name_zh, self.major_name_en.lower()):
            score = max(score, 10)
        return score


class ComponentState(StrEnum):
    NORMAL = "normal"
    DAMAGED = "damaged"
    LOST = "lost"
    UNDER_REPAIR = "under_repair"
    REMOVED = "removed"


# Which state may follow which. "removed" is final: the record stays so that old cases still
# resolve, but a retired ID is never reused or revived.
TRANSITIONS: dict[ComponentState, frozenset[ComponentState]] = {
    ComponentState.NORMAL: frozenset(
        {
            ComponentState.DAMAGED,
            ComponentState.LOST,
            ComponentState.UNDER_REPAIR,
            ComponentState.REMOVED,
        }
    ),
    ComponentState.DAMAGED: frozenset(
        {
            ComponentState.NORMAL,
            ComponentState.LOST,
            ComponentState.UNDER_REPAIR,
            ComponentState.REMOVED,
        }
    ),
    ComponentState.LOST: frozenset(
        {ComponentState.NORMAL, ComponentState.UNDER_REPAIR, ComponentState.REMOVED}
    ),
    ComponentState.UNDER_REPAIR: frozenset(
        {ComponentState.NORMAL, ComponentState.DAMAGED, ComponentState.REMOVED}
    ),
    ComponentState.REMOVED: frozenset(),
}


# Words registers use for states, in both languages; looked up after lower-casing.
STATE_WORDS: dict[str, ComponentState] = {
    **{s.value: s for s in ComponentState},
    "under repair": ComponentState.UNDER_REPAIR,
    "retired": ComponentState.REMOVED,
    "正常": ComponentState.NORMAL,
    "完好": ComponentState.NORMAL,
    "破损": ComponentState.DAMAGED,
    "损坏": ComponentState.DAMAGED,
    "丢失": ComponentState.LOST,
    "缺失": ComponentState.LOST,
    "维修中": ComponentState.UNDER_REPAIR,
    "在修": ComponentState.UNDER_REPAIR,
    "已拆除": ComponentState.REMOVED,
    "移除": ComponentState.REMOVED,
    "注销": ComponentState.REMOVED,
}


def parse_state(value: str, field_name: str = "state") -> ComponentState:
    state = STATE_WORDS.get(value.strip().lower())
    if state is None:
        known = ", ".join(s.value for s in ComponentState)
        raise InvalidInput.one(
            field_name, "known_state", f"unknown state {value!r}; known states: {known}"
        )
    return state


def check_transition(component_id: str, old: ComponentState, new: ComponentState) -> None:
    """Refuse a state change the table does not allow; the message says what is allowed."""
    if new in TRANSITIONS[old]:
        return
    if old is ComponentState.REMOVED:
        raise Conflict(f"component {component_id} is removed (retired) and cannot change")
    allowed = ", ".join(sorted(s.value for s in TRANSITIONS[old]))
    raise InvalidInput.one(
        "state",
        "allowed_transition",
        f"component {component_id} cannot go from {old} to {new}; from {old} it may go to: "
        f"{allowed}",
    )


COMPONENT_ID_DIGITS = 16
ADMIN_CODE_DIGITS = 6
SEQUENCE_DIGITS = 6
MAX_SEQUENCE = 999_999


@dataclass(frozen=True)
class ComponentId:
    admin_code: str
    major: str
    minor: str
    sequence: int

    def __str__(self) -> str:
        return f"{self.admin_code}{self.major}{self.minor}{self.sequence:06d}"

    @property
    def class_code(self) -> str:
        return f"C{self.major}{self.minor}"

    @property
    def prefix(self) -> str:
        """The ten digits that sequences are counted under."""
        return f"{self.admin_code}{self.major}{self.minor}"


def component_id_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed component ID; None if it is (kept cheap: bulk imports
    call it once a row)."""
    if len(text) != COMPONENT_ID_DIGITS or not text.isascii() or not text.isdigit():
        return (
            f"component ID {text!r} must be 16 digits "
            "(6 admin code + 2 major + 2 minor + 6 sequence)"
        )
    if text.endswith("000000"):
        return f"component ID {text} has sequence 000000; sequences start at 000001"
    return None


def class_mismatch_problem(text: str, class_code: str) -> str | None:
    """Why the class digits of a well-formed ID disagree with ``class_code``; None if they agree."""
    if text[6:10] != class_code[1:5]:
        return (
            f"component ID {text} has class digits {text[6:8]}/{text[8:10]} but the class is "
            f"{class_code} (major {class_code[1:3]}, minor {class_code[3:5]})"
        )
    return None


def parse_component_id(text: str, field_name: str = "id") -> ComponentId:
    value = text.strip()
    problem = component_id_problem(value)
    if problem:
        raise InvalidInput.one(field_name, "id_format", problem)
    return ComponentId(value[:6], value[6:8], value[8:10], int(value[10:]))


def is_admin_code(code: str | None) -> bool:
    """A 6-digit county-level code (GB/T 2260), as a district code should be in China."""
    return code is not None and len(code) == ADMIN_CODE_DIGITS and code.isascii() and code.isdigit()


def admin_code_problem(admin_code: str, district_code: str | None) -> str | None:
    """Why an ID's admin code does not fit the district its point lies in; None if it does.

    Only a district whose code is itself a 6-digit admin code can be compared; a city whose
    districts carry other codes (a test city, NYC boroughs) gets the format check alone.
    """
    if is_admin_code(district_code) and admin_code != district_code:
        return (
            f"component ID admin code {admin_code} does not match district {district_code} "
            "where the point lies"
        )
    return None


def allocate_ids(prefix: str, last_sequence: int, count: int) -> list[str]:
    """The next ``count`` IDs under a 10-digit prefix after ``last_sequence``."""
    if last_sequence + count > MAX_SEQUENCE:
        raise InvalidInput.one(
            "id",
            "sequence_exhausted",
            f"no sequence left under {prefix}: {last_sequence} used, {count} more asked for, "
            f"{MAX_SEQUENCE} at most",
        )
    return [f"{prefix}{seq:06d}" for seq in range(last_sequence + 1, last_sequence + count + 1)]


@dataclass(frozen=True)
class Component:
    """A permanent public facility with an identity; owner and maintainer decide where a case
    about it is dispatched."""

    id: str
    name: str
    class_code: str
    admin_code: str
    competent_department: str | None
    owner: str
    maintainer: str | None
    unit_grid: str | None
    community: str | None
    subdistrict: str | None
    district: str | None
    lon: float
    lat: float
    h3_10: str | None
    state: ComponentState
    first_recorded: date
    last_changed: datetime
    data_source: str | None
    note: str | None


@dataclass(frozen=True)
class ComponentDraft:
    """What a caller gives to record a component; ``id`` None means "allocate the next one"."""

    class_code: str
    name: str
    lon: float
    lat: float
    owner: str
    id: str | None = None
    admin_code: str | None = None
    competent_department: str | None = None
    maintainer: str | None = None
    state: ComponentState = ComponentState.NORMAL
    first_recorded: date | None = None
    data_source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ComponentChange:
    """Fields to change on a component; only those named in ``fields`` are applied, so that
    "set to empty" and "leave alone" differ."""

    values: dict[str, object] = field(default_factory=dict)

    CHANGEABLE = frozenset(
        {
            "name",
            "competent_department",
            "owner",
            "maintainer",
            "lon",
            "lat",
            "data_source",
            "note",
        }
    )

    def problems(self) -> list[FieldProblem]:
        out = [
            FieldProblem(name, "changeable", f"{name} cannot be changed on a component")
            for name in self.values
            if name not in self.CHANGEABLE
        ]
        if ("lon" in self.values) != ("lat" in self.values):
            out.append(FieldProblem("lon", "both_coordinates", "change lon and lat together"))
        for name in ("name", "owner"):
            if name in self.values and not str(self.values[name] or "").strip():
                out.append(FieldProblem(name, "required", f"{name} must not be empty"))
        return out


def coordinate_problem(lon: float, lat: float) -> FieldProblem | None:
    if not (-180.0 <= lon <= 180.0):
        return FieldProblem("lon", "coordinate_range", f"longitude {lon} is outside -180..180")
    if not (-90.0 <= lat <= 90.0):
        return FieldProblem("lat", "coordinate_range", f"latitude {lat} is outside -90..90")
    return None


NAME_MAX = 200
DEPARTMENT_CODE_MAX = 64
DATA_SOURCE_MAX = 200
_DATE_SLASHED = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")


def parse_date_text(text: str) -> date | None:
    """The dates registers carry: ``2024-05-01``, ``2024/5/1``, ``2024.5.1``, ``20240501``, or
    an ISO date-time whose date part is taken. None when it is none of these."""
    value = text.strip()
    try:
        if len(value) == 10 and value[4] == "-":
            return date.fromisoformat(value)
        if len(value) == 8 and value.isdigit():
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if len(value) > 10 and value[4] == "-" and value[10] in "T ":
            return date.fromisoformat(value[:10])
        match = _DATE_SLASHED.match(value)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None
