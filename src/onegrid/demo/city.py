"""Build the demo city through each context's services, never by writing tables directly."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import inspect, text

from onegrid.db.session import Database


@dataclass
class DemoReport:
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    credentials: list[tuple[str, str, str]] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"demo city (seed {self.seed}):"]
        lines += [f"  {k}: {v:,}" for k, v in self.counts.items()]
        if self.credentials:
            lines.append("  users (shown once; change the passwords):")
            lines += [f"    {role:<18} {user:<22} {pw}" for role, user, pw in self.credentials]
        return "\n".join(lines)


def is_empty(db: Database) -> bool:
    """No areas yet means no city: the demo may be built."""
    if not inspect(db.engine).has_table("areas"):
        return True
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM areas")).scalar_one() == 0


def build_demo_city(db: Database, seed: int) -> DemoReport:
    return DemoReport(seed=seed)
