"""What a component import is asked to do, and what it did."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from onegrid.assets.domain import is_admin_code
from onegrid.assets.sources import RowProblem
from onegrid.core.errors import FieldProblem


class OnError(StrEnum):
    SKIP = "skip"
    REFUSE = "refuse"


@dataclass(frozen=True)
class ComponentImportOptions:
    on_error: OnError = OnError.REFUSE
    batch_size: int = 10_000
    mapping: Mapping[str, str] = field(default_factory=dict)
    fmt: str | None = None
    crs: str = "wgs84"
    admin_code: str | None = None
    """For rows without an ID in a city whose district codes are not 6-digit admin codes."""
    data_source: str | None = None
    check_departments: bool = True
    report_path: Path | None = None
    timezone: str = "Asia/Shanghai"

    def problems(self) -> list[FieldProblem]:
        out: list[FieldProblem] = []
        if not 1 <= self.batch_size <= 100_000:
            out.append(FieldProblem("batch_size", "range", "batch size must be 1 to 100,000"))
        if self.admin_code is not None and not is_admin_code(self.admin_code):
            out.append(
                FieldProblem("admin_code", "admin_code_format", "admin code must be 6 digits")
            )
        return out


@dataclass
class ComponentImportReport:
    """What an import did. ``problems`` keeps the first problems; the report file has all."""

    rows: int = 0
    written: int = 0
    rejected_rows: int = 0
    problem_count: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    by_rule: Counter[str] = field(default_factory=Counter)
    refused: bool = False
    report_path: Path | None = None
    unit: str = "line"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def render(self) -> str:
        head = (
            f"{self.rows:,} rows read, {self.written:,} components written, "
            f"{self.rejected_rows:,} rows rejected"
        )
        if self.refused:
            head += " — import REFUSED, nothing written (on-error=refuse)"
        lines = [head, f"{self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s"]
        if self.by_rule:
            rules = ", ".join(f"{rule} {n:,}" for rule, n in self.by_rule.most_common())
            lines.append(f"problems by rule: {rules}")
        for p in self.problems[:10]:
            lines.append(f"  {self.unit} {p.line}: {p.field} [{p.rule}] {p.message}")
        if self.problem_count > 10:
            lines.append(f"  … {self.problem_count - 10:,} more")
        if self.report_path is not None and self.problem_count:
            lines.append(f"full report: {self.report_path}")
        return "\n".join(lines)


ImportProgress = Callable[[int, int], None]
"""Called after each batch with the bytes read so far and the rows done."""
