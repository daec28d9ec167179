"""``onegrid rules``: the city's time limits and working calendar as saved revisions.

``show`` prints the document in force (or one revision) as YAML, to edit; ``save`` checks a file
as the admin pages do and stores it as the next revision; ``history`` lists who saved what."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from onegrid.cases.domain.rule_changes import RuleKind
from onegrid.cli.root import app, console, err, open_database, settings_or_exit, show_report
from onegrid.core.errors import DomainError

rules_app = typer.Typer(
    help="The city's time limits and working calendar: show, save, history.",
    no_args_is_help=True,
)
app.add_typer(rules_app, name="rules")


class Kind(StrEnum):
    TIME_LIMITS = "time-limits"
    CALENDAR = "calendar"


KindArg = Annotated[Kind, typer.Argument(help="time-limits or calendar")]


def _kind(kind: Kind) -> RuleKind:
    return RuleKind(kind.value.replace("-", "_"))


def _fail(exc: DomainError) -> typer.Exit:
    problems = getattr(exc, "problems", None)
    for p in problems or []:
        err.print(f"{p.field}: {p.message} [{p.rule}]", markup=False, highlight=False)
    if not problems:
        err.print(exc.message, markup=False, highlight=False)
    return typer.Exit(2)


@rules_app.command("save")
def save_cmd(
    kind: KindArg,
    file: Annotated[Path, typer.Argument(help="The whole document (YAML or JSON)", exists=True)],
    note: Annotated[str, typer.Option(help="What changed and why (kept in the history)")],
    user: Annotated[str, typer.Option("--as", help="Save as this user (a city admin).")],
    base: Annotated[
        int | None,
        typer.Option(help="The revision the file was edited from (default: the one in force)."),
    ] = None,
) -> None:
    """Check a rule document and save it as the next revision; new cases use it at once."""
    from onegrid.cases.rulestore import newest
    from onegrid.cases.services.rules import save_rules
    from onegrid.core.clock import SystemClock
    from onegrid.core.yamlfile import read_yaml
    from onegrid.people.queries import get_user_by_username, principal_of
    from onegrid.schema import migrate

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    rule_kind = _kind(kind)
    try:
        document = read_yaml(file)
        with db.reader() as session:
            principal = principal_of(get_user_by_username(session, user))
            if base is None:
                current = newest(session.connection(), rule_kind)
                base = current.revision if current else 0
        saved = save_rules(
            db,
            principal,
            rule_kind,
            document,
            note=note,
            base_revision=base,
            clock=SystemClock(),
            timezone=settings.timezone,
        )
    except DomainError as exc:
        raise _fail(exc) from None
    show_report(f"saved {kind.value} revision {saved.revision} ({saved.note})")


@rules_app.command("history")
def history_cmd(kind: KindArg) -> None:
    """Every saved revision, newest first: number, when, who, note."""
    from onegrid.cases.rulestore import history

    settings = settings_or_exit()
    db = open_database(settings)
    with db.reader() as session:
        rows = history(session.connection(), _kind(kind))
    if not rows:
        show_report(f"no saved revisions: the {kind.value} file is in force")
        return
    out = Table("revision", "saved at (UTC)", "by", "note")
    for r in rows:
        out.add_row(str(r.revision), f"{r.saved_at:%Y-%m-%d %H:%M}", r.saved_by_name, r.note)
    console.print(out)


@rules_app.command("show")
def show_cmd(
    kind: KindArg,
    revision: Annotated[
        int | None, typer.Option(help="A saved revision (default: the one in force).")
    ] = None,
) -> None:
    """Print the document in force (or one revision) as YAML, ready to edit and save."""
    from onegrid.cases import rulestore
    from onegrid.cases.config import document_in_force
    from onegrid.core.errors import NotFound

    settings = settings_or_exit()
    db = open_database(settings)
    try:
        with db.reader() as session:
            conn = session.connection()
            if revision is None:
                saved, path, document = document_in_force(conn, _kind(kind))
                source = f"revision {saved.revision}" if saved else str(path)
            else:
                found = rulestore.revision(conn, _kind(kind), revision)
                if found is None:
                    raise NotFound(f"no {kind.value} revision {revision}")
                document, source = found.document, f"revision {revision}"
    except DomainError as exc:
        raise _fail(exc) from None
    print(f"# {kind.value}: {source}")
    print(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), end="")
