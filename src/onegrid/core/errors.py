"""Domain errors. The API maps them to problem+json; nothing here knows about HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    """Base of every error a user can cause and correct."""

    kind = "domain-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldProblem:
    """One broken rule: which field (or record), which rule, in words."""

    field: str
    rule: str
    message: str
    record: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "rule": self.rule, "message": self.message}
        if self.record is not None:
            out["record"] = self.record
        return out


class InvalidInput(DomainError):
    kind = "invalid-input"

    def __init__(self, problems: list[FieldProblem] | FieldProblem) -> None:
        self.problems = [problems] if isinstance(problems, FieldProblem) else list(problems)
        first = self.problems[0]
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{first.field}: {first.message}{more}")

    @classmethod
    def one(cls, field: str, rule: str, message: str, record: str | None = None) -> InvalidInput:
        return cls(FieldProblem(field, rule, message, record))


class NotFound(DomainError):
    kind = "not-found"


class Conflict(DomainError):
    kind = "conflict"

    def __init__(self, message: str, current: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.current = current or {}


class PermissionDenied(DomainError):
    kind = "forbidden"


class NotAuthenticated(DomainError):
    kind = "unauthenticated"


@dataclass
class ImportReport:
    """What a bulk import did: rows kept, rows refused with line and reason."""

    accepted: int = 0
    rejected: list[FieldProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected
