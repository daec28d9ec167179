"""Row rules for bulk component imports, applied a column at a time to a batch of text rows.

Pure: no database. What needs the database or the grid (duplicates, location, the district's
admin code, ID allocation) happens in ``importing`` on the rows that pass here. Every rule a row
breaks is reported, not only the first, so one pass over a file finds all that is wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray

from onegrid.assets.domain import (
    DATA_SOURCE_MAX,
    DEPARTMENT_CODE_MAX,
    NAME_MAX,
    STATE_WORDS,
    Category,
    Kind,
    class_mismatch_problem,
    component_id_problem,
    is_admin_code,
    parse_date_text,
)
from onegrid.assets.sources import RawBatch, RowProblem

Floats = NDArray[np.float64]
# (row index in the batch, field, rule, message)
Issue = tuple[int, str, str, str]


@dataclass(frozen=True)
class CheckContext:
    """What the row rules compare against."""

    classes: Mapping[str, Category]
    today: date
    data_source: str
    departments: frozenset[str] | None = None  # None: department codes are not checked


@dataclass
class CheckedBatch:
    """The rows that passed, as parsed columns; ``ids`` holds ``""`` where one is to be
    allocated."""

    lines: list[int]
    ids: list[str]
    class_codes: list[str]
    names: list[str]
    owners: list[str]
    maintainers: list[str | None]
    competent_departments: list[str | None]
    states: list[str]
    first_recorded: list[date]
    data_sources: list[str]
    notes: list[str | None]
    admin_codes: list[str]
    lon: Floats
    lat: Floats
    problems: list[RowProblem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


def _ids(ids: list[str]) -> tuple[list[bool], list[Issue]]:
    """Which IDs are well formed, and the problems of those that are given but are not."""
    valid = [len(v) == 16 and v.isdigit() and v.isascii() and v[10:] != "000000" for v in ids]
    out: list[Issue] = [
        (i, "id", "id_format", component_id_problem(v) or "bad ID")
        for i, (v, ok) in enumerate(zip(ids, valid, strict=True))
        if v and not ok
    ]
    return valid, out


def _class_code(text: str) -> str:
    """``C0101`` as given, ``c0101`` upper-cased, ``0101`` prefixed."""
    if len(text) == 4 and text.isdigit():
        return "C" + text
    return text.upper()


def _class_problem(code: str, classes: Mapping[str, Category]) -> Issue | None:
    if not code:
        return (0, "class_code", "required", "no class_code and no ID to read it from")
    category = classes.get(code)
    if category is not None and category.kind is Kind.COMPONENT:
        return None
    if code.startswith("E"):
        return (0, "class_code", "component_class", f"class {code} is an event class")
    return (0, "class_code", "known_class", f"class {code} is not in the current taxonomy")


def _classes(
    codes: list[str], ids: list[str], valid: list[bool], classes: Mapping[str, Category]
) -> tuple[list[str], list[Issue]]:
    """The class of each row: as given (``C0101`` or ``0101``), else read from the ID; and
    whether the class digits of a given ID agree with it."""
    memo: dict[str, tuple[str, Issue | None]] = {}
    resolved: list[str] = []
    out: list[Issue] = []
    for i, (text, cid, ok) in enumerate(zip(codes, ids, valid, strict=True)):
        key = text or ("C" + cid[6:10] if ok else "")
        found = memo.get(key)
        if found is None:
            code = _class_code(key)
            found = memo[key] = (code, _class_problem(code, classes))
        code, problem = found
        resolved.append(code)
        if problem is not None:
            out.append((i, *problem[1:]))
        elif ok and cid[6:10] != code[1:5]:
            out.append((i, "id", "id_matches_class", class_mismatch_problem(cid, code) or ""))
    return resolved, out


def _floats(values: list[str], name: str) -> tuple[Floats, list[Issue]]:
    try:
        return np.fromiter(map(float, values), dtype=np.float64, count=len(values)), []
    except ValueError:
        pass
    parsed = np.full(len(values), np.nan)
    out: list[Issue] = []
    for i, value in enumerate(values):
        try:
            parsed[i] = float(value)
        except ValueError:
            message = f"{name} is missing" if not value else f"{name} {value!r} is not a number"
            out.append((i, name, "number", message))
    return parsed, out


def _coordinates(lons: list[str], lats: list[str]) -> tuple[Floats, Floats, list[Issue]]:
    lon, lon_issues = _floats(lons, "lon")
    lat, lat_issues = _floats(lats, "lat")
    out = lon_issues + lat_issues
    unparsed = {i for i, *_ in out}
    bad_lon = ~np.isfinite(lon) | (lon < -180.0) | (lon > 180.0)
    bad_lat = ~np.isfinite(lat) | (lat < -90.0) | (lat > 90.0)
    for i in np.flatnonzero(bad_lon | bad_lat).tolist():
        if i in unparsed:
            continue
        if bad_lon[i]:
            out.append((i, "lon", "coordinate_range", f"longitude {lons[i]} is outside -180..180"))
        else:
            out.append((i, "lat", "coordinate_range", f"latitude {lats[i]} is outside -90..90"))
    return lon, lat, out


def _department_problem(
    name: str, value: str, required: bool, known: frozenset[str] | None
) -> tuple[str, str] | None:
    if not value:
        return ("required", f"{name} (a department code) is missing") if required else None
    if len(value) > DEPARTMENT_CODE_MAX:
        return "max_length", f"{name} is longer than {DEPARTMENT_CODE_MAX} characters"
    if known is not None and value not in known:
        return "known_department", f"no department with code {value!r}"
    return None


def _departments(
    name: str, values: list[str], required: bool, known: frozenset[str] | None
) -> list[Issue]:
    # A file names few departments: judge each once, and visit rows only if one is wrong.
    problems = {v: p for v in set(values) if (p := _department_problem(name, v, required, known))}
    if not problems:
        return []
    return [(i, name, *problems[v]) for i, v in enumerate(values) if v in problems]


def _states(values: list[str]) -> tuple[list[str], list[Issue]]:
    memo: dict[str, str] = {}
    for value in set(values):
        found = STATE_WORDS.get(value.lower()) if value else STATE_WORDS["normal"]
        memo[value] = found.value if found is not None else ""
    resolved = list(map(memo.__getitem__, values))
    if all(memo.values()):
        return resolved, []
    out: list[Issue] = [
        (i, "state", "known_state", f"unknown state {value!r}")
        for i, value in enumerate(values)
        if not memo[value]
    ]
    return resolved, out


def _dates(values: list[str], today: date) -> tuple[list[date], list[Issue]]:
    memo: dict[str, date | None] = {"": today}
    for value in set(values) - memo.keys():
        memo[value] = parse_date_text(value)
    if all(d is not None and d <= today for d in memo.values()):
        # Every distinct text is a date not after today: no row needs a second look.
        return list(map(memo.__getitem__, values)), []  # type: ignore[arg-type]
    resolved: list[date] = []
    out: list[Issue] = []
    for i, value in enumerate(values):
        if value in memo:
            parsed = memo[value]
        else:
            parsed = memo[value] = parse_date_text(value)
        if parsed is None:
            out.append((i, "first_recorded", "date_format", f"{value!r} is not a date"))
            resolved.append(today)
        elif parsed > today:
            out.append(
                (i, "first_recorded", "not_in_future", f"first_recorded {value} is after today")
            )
            resolved.append(today)
        else:
            resolved.append(parsed)
    return resolved, out


def _admin_codes(admin_codes: list[str], ids: list[str]) -> list[Issue]:
    out: list[Issue] = []
    if not any(admin_codes):
        return out
    for i, (code, cid) in enumerate(zip(admin_codes, ids, strict=True)):
        if not code:
            continue
        if not is_admin_code(code):
            out.append(
                (i, "admin_code", "admin_code_format", f"admin code {code!r} is not 6 digits")
            )
        elif cid and cid[:6] != code:
            out.append(
                (i, "admin_code", "id_matches_admin_code", f"ID {cid} does not start with {code}")
            )
    return out


def _lengths(name: str, values: list[str], limit: int) -> list[Issue]:
    if not values or max(map(len, values)) <= limit:
        return []
    return [
        (i, name, "max_length", f"{name} is longer than {limit} characters")
        for i, value in enumerate(values)
        if len(value) > limit
    ]


def check_batch(raw: RawBatch, ctx: CheckContext) -> CheckedBatch:
    """Apply every row rule to a batch; the rows breaking none come back parsed."""
    cols = raw.columns
    ids = cols["id"]
    valid_ids, id_issues = _ids(ids)
    class_codes, class_issues = _classes(cols["class_code"], ids, valid_ids, ctx.classes)
    lon, lat, coord_issues = _coordinates(cols["lon"], cols["lat"])
    states, state_issues = _states(cols["state"])
    dates, date_issues = _dates(cols["first_recorded"], ctx.today)
    known = ctx.departments
    issues = [
        *id_issues,
        *class_issues,
        *coord_issues,
        *_departments("owner", cols["owner"], True, known),
        *_departments("maintainer", cols["maintainer"], False, known),
        *_departments("competent_department", cols["competent_department"], False, known),
        *state_issues,
        *date_issues,
        *_admin_codes(cols["admin_code"], ids),
        *_lengths("name", cols["name"], NAME_MAX),
        *_lengths("data_source", cols["data_source"], DATA_SOURCE_MAX),
    ]
    problems = list(raw.problems)
    bad: set[int] = set()
    for i, name, rule, message in sorted(issues, key=lambda x: x[0]):
        bad.add(i)
        problems.append(RowProblem(raw.lines[i], ids[i], name, rule, message))
    keep = [i for i in range(len(raw)) if i not in bad] if bad else list(range(len(raw)))
    return _compact(raw, ctx, keep, class_codes, states, dates, lon, lat, problems)


def _compact(
    raw: RawBatch,
    ctx: CheckContext,
    keep: list[int],
    class_codes: list[str],
    states: list[str],
    dates: list[date],
    lon: Floats,
    lat: Floats,
    problems: list[RowProblem],
) -> CheckedBatch:
    cols = raw.columns
    every_row = len(keep) == len(raw)
    take: Callable[[list[str]], list[str]] = (
        list if every_row else lambda values: [values[i] for i in keep]
    )
    kept_codes = take(class_codes)
    names = [
        n or ctx.classes[c].name_zh for n, c in zip(take(cols["name"]), kept_codes, strict=True)
    ]
    index = np.asarray(keep, dtype=np.intp)
    return CheckedBatch(
        lines=[raw.lines[i] for i in keep],
        ids=take(cols["id"]),
        class_codes=kept_codes,
        names=names,
        owners=take(cols["owner"]),
        maintainers=[v or None for v in take(cols["maintainer"])],
        competent_departments=[v or None for v in take(cols["competent_department"])],
        states=take(states),
        first_recorded=list(dates) if every_row else [dates[i] for i in keep],
        data_sources=[v or ctx.data_source for v in take(cols["data_source"])],
        notes=[v or None for v in take(cols["note"])],
        admin_codes=take(cols["admin_code"]),
        lon=lon[index],
        lat=lat[index],
        problems=problems,
    )
