"""The taxonomy file: reading and validating a city's component and event classes.

The file (YAML or JSON, the same shape) lists major classes, each with its minor classes::

    name: OneGrid example taxonomy
    version: "2026.11"
    components:
      - major: "01"
        name_zh: 公用设施
        name_en: Public utilities
        classes:
          - minor: "01"
            name_zh: 上水井盖
            name_en: Water-supply manhole cover
            keywords: {zh: [供水井盖], en: [water cover]}
            urgency: normal
            emergency: false
            active: true      # false: kept for the records that name it, offered for none
    events: [...]

Every broken rule is reported at once, each naming its record (the class code, when it has one)
and the path of its field in the document (``components[0].classes[3].name_en``), so a city fixes
its file, or an admin the row of the editor, in one go.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from onegrid.assets.domain import (
    TWO_DIGITS,
    Category,
    Kind,
    Urgency,
    category_code,
)
from onegrid.core.errors import FieldProblem, InvalidInput

DEFAULT_TAXONOMY = Path(__file__).resolve().parent / "data" / "taxonomy.yaml"

_TOP_KEYS = frozenset({"name", "version", "note", "components", "events"})
_MAJOR_KEYS = frozenset({"major", "name_zh", "name_en", "classes"})
_CLASS_KEYS = frozenset(
    {"minor", "name_zh", "name_en", "keywords", "urgency", "emergency", "active"}
)
_SECTIONS = (("components", Kind.COMPONENT), ("events", Kind.EVENT))


@dataclass(frozen=True)
class TaxonomyDocument:
    """A validated taxonomy, ready to be stored as a new version."""

    name: str
    label: str
    note: str
    categories: tuple[Category, ...]
    checksum: str

    def by_code(self) -> dict[str, Category]:
        return {c.code: c for c in self.categories}


def read_taxonomy_file(path: Path) -> TaxonomyDocument:
    """Read and validate a taxonomy file (``.yaml``/``.yml`` or ``.json``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput.one("file", "readable", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput.one("file", "utf8", f"{path} is not UTF-8 text") from None
    return parse_taxonomy_text(text, fmt="json" if path.suffix.lower() == ".json" else "yaml")


def parse_taxonomy_text(text: str, fmt: str = "yaml") -> TaxonomyDocument:
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput.one(
            "file", "json_syntax", f"not valid JSON: {exc.msg} at line {exc.lineno}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidInput.one("file", "yaml_syntax", f"not valid YAML{where}: {exc}") from None
    return parse_taxonomy(data)


def parse_taxonomy(data: Any) -> TaxonomyDocument:
    """Validate a decoded taxonomy document; raise InvalidInput listing every problem."""
    if not isinstance(data, Mapping):
        raise InvalidInput.one("file", "mapping", "a taxonomy file must be a mapping at the top")
    problems: list[FieldProblem] = []
    problems += _unknown_keys(data, _TOP_KEYS, "", "taxonomy")
    name = _text(data.get("name")) or "unnamed taxonomy"
    label = _text(data.get("version"))
    if not label:
        problems.append(FieldProblem("version", "required", "the taxonomy needs a version label"))
    found: list[tuple[Category, str]] = []
    for section, kind in _SECTIONS:
        majors = data.get(section) or []
        if not isinstance(majors, list):
            problems.append(FieldProblem(section, "list", f"{section} must be a list of majors"))
            continue
        for index, major in enumerate(majors):
            found += _read_major(major, kind, f"{section}[{index}]", problems)
    if not found and not problems:
        problems.append(FieldProblem("components", "required", "the taxonomy has no classes"))
    problems += _duplicates(found)
    categories = [c for c, _ in found]
    if problems:
        raise InvalidInput(problems)
    return TaxonomyDocument(
        name=name,
        label=label,
        note=_text(data.get("note")),
        categories=tuple(categories),
        checksum=_checksum(name, label, categories),
    )


def _read_major(
    item: Any, kind: Kind, path: str, problems: list[FieldProblem]
) -> list[tuple[Category, str]]:
    """The major's classes, each with its path in the document."""
    if not isinstance(item, Mapping):
        problems.append(
            FieldProblem(f"{path}.major", "mapping", "a major class must be a mapping", path)
        )
        return []
    problems += _unknown_keys(item, _MAJOR_KEYS, path, path)
    major = _two_digits(item.get("major"))
    if major is None:
        problems.append(
            FieldProblem(
                f"{path}.major",
                "two_digits",
                f'major must be two digits such as "01" (got {item.get("major")!r})',
                path,
            )
        )
        return []
    record = f"{kind.prefix}{major}"
    major_zh, major_en = _text(item.get("name_zh")), _text(item.get("name_en"))
    problems += _names_present(major_zh, major_en, path, record)
    classes = item.get("classes") or []
    if not isinstance(classes, list) or not classes:
        problems.append(
            FieldProblem(f"{path}.classes", "required", "a major needs classes", record)
        )
        return []
    out: list[tuple[Category, str]] = []
    for index, cls in enumerate(classes):
        at = f"{path}.classes[{index}]"
        category = _read_class(cls, kind, major, (major_zh, major_en), (at, f"{record}[{index}]"))
        if isinstance(category, Category):
            out.append((category, at))
        else:
            problems += category
    return out


def _read_class(
    item: Any, kind: Kind, major: str, major_names: tuple[str, str], where: tuple[str, str]
) -> Category | list[FieldProblem]:
    """One class; ``where`` is its path in the document and its record until it has a code."""
    path, record = where
    if not isinstance(item, Mapping):
        return [FieldProblem(f"{path}.minor", "mapping", "a class must be a mapping", record)]
    minor = _two_digits(item.get("minor"))
    if minor is None:
        return [
            *_unknown_keys(item, _CLASS_KEYS, path, record),
            FieldProblem(
                f"{path}.minor",
                "two_digits",
                f'minor must be two digits such as "01" (got {item.get("minor")!r})',
                record,
            ),
        ]
    code = category_code(kind, major, minor)
    problems = _unknown_keys(item, _CLASS_KEYS, path, code)
    if major == "00" or minor == "00":
        problems.append(
            FieldProblem(f"{path}.minor", "not_zero", "classes are numbered from 01", code)
        )
    name_zh, name_en = _text(item.get("name_zh")), _text(item.get("name_en"))
    problems += _names_present(name_zh, name_en, path, code)
    keywords_zh, keywords_en = _keywords(item.get("keywords"), path, code, problems)
    urgency_text = _text(item.get("urgency")) or Urgency.NORMAL.value
    try:
        urgency = Urgency(urgency_text)
    except ValueError:
        known = ", ".join(u.value for u in Urgency)
        problems.append(
            FieldProblem(
                f"{path}.urgency",
                "known_urgency",
                f"urgency {urgency_text!r} is not one of {known}",
                code,
            )
        )
        urgency = Urgency.NORMAL
    flags = {
        name: item.get(name, default) for name, default in (("emergency", False), ("active", True))
    }
    problems += [
        FieldProblem(f"{path}.{name}", "boolean", f"{name} must be true or false", code)
        for name, value in flags.items()
        if not isinstance(value, bool)
    ]
    if problems:
        return problems
    return Category(
        code=code,
        kind=kind,
        major=major,
        minor=minor,
        name_zh=name_zh,
        name_en=name_en,
        major_name_zh=major_names[0],
        major_name_en=major_names[1],
        keywords_zh=keywords_zh,
        keywords_en=keywords_en,
        urgency=urgency,
        emergency=bool(flags["emergency"]),
        active=bool(flags["active"]),
    )


def _keywords(
    value: Any, path: str, code: str, problems: list[FieldProblem]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if value is None:
        return (), ()
    if not isinstance(value, Mapping) or set(value) - {"zh", "en"}:
        problems.append(
            FieldProblem(
                f"{path}.keywords",
                "keywords_shape",
                "keywords must be {zh: [...], en: [...]}",
                code,
            )
        )
        return (), ()
    out: list[tuple[str, ...]] = []
    for lang in ("zh", "en"):
        words = value.get(lang) or []
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            problems.append(
                FieldProblem(
                    f"{path}.keywords.{lang}",
                    "keywords_shape",
                    f"keywords.{lang} must be a list of words",
                    code,
                )
            )
            out.append(())
            continue
        out.append(tuple(dict.fromkeys(w.strip() for w in words)))
    return out[0], out[1]


def _names_present(name_zh: str, name_en: str, path: str, record: str) -> list[FieldProblem]:
    return [
        FieldProblem(f"{path}.{name}", "required", f"{name} must not be empty", record)
        for name, value in (("name_zh", name_zh), ("name_en", name_en))
        if not value
    ]


def _duplicates(categories: Sequence[tuple[Category, str]]) -> list[FieldProblem]:
    seen: set[str] = set()
    out: list[FieldProblem] = []
    for category, path in categories:
        if category.code in seen:
            out.append(
                FieldProblem(
                    f"{path}.minor",
                    "unique_code",
                    f"class {category.code} is listed twice",
                    category.code,
                )
            )
        seen.add(category.code)
    return out


def _unknown_keys(
    item: Mapping[Any, Any], known: frozenset[str], path: str, record: str
) -> list[FieldProblem]:
    return [
        FieldProblem(
            f"{path}.{key}" if path else str(key),
            "known_field",
            f"unknown field {key!r}; known: {', '.join(sorted(known))}",
            record,
        )
        for key in item
        if key not in known
    ]


def _two_digits(value: Any) -> str | None:
    # Unquoted YAML ``01``..``07`` reads as an octal int and ``08``/``09`` as text; both mean
    # the same two digits, so small ints are accepted and padded.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99:
        return f"{value:02d}"
    if isinstance(value, str) and TWO_DIGITS.match(value.strip()):
        return value.strip()
    return None


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _checksum(name: str, label: str, categories: Sequence[Category]) -> str:
    payload = json.dumps(
        [name, label, [category_as_dict(c) for c in categories]],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def category_as_dict(category: Category) -> dict[str, Any]:
    """A class as stored and checksummed. ``active`` appears only when false, so a taxonomy
    without deactivated classes keeps the checksum it had before classes could be deactivated
    (loading the same file again still changes nothing)."""
    out = {
        "code": category.code,
        "kind": category.kind.value,
        "major": category.major,
        "minor": category.minor,
        "name_zh": category.name_zh,
        "name_en": category.name_en,
        "major_name_zh": category.major_name_zh,
        "major_name_en": category.major_name_en,
        "keywords": {"zh": list(category.keywords_zh), "en": list(category.keywords_en)},
        "urgency": category.urgency.value,
        "emergency": category.emergency,
    }
    if not category.active:
        out["active"] = False
    return out


def taxonomy_as_document(
    name: str, label: str, note: str, categories: Sequence[Category]
) -> dict[str, Any]:
    """The file shape again (what ``taxonomy show --json`` prints), so an export loads back."""
    doc: dict[str, Any] = {"name": name, "version": label, "note": note}
    for section, kind in _SECTIONS:
        majors: dict[str, dict[str, Any]] = {}
        for c in (c for c in categories if c.kind is kind):
            major = majors.setdefault(
                c.major,
                {
                    "major": c.major,
                    "name_zh": c.major_name_zh,
                    "name_en": c.major_name_en,
                    "classes": [],
                },
            )
            entry = category_as_dict(c)
            for key in ("code", "kind", "major", "major_name_zh", "major_name_en"):
                entry.pop(key)
            major["classes"].append(entry)
        doc[section] = list(majors.values())
    return doc
