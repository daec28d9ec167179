"""The one place that decides who may do what, where.

``ACTIONS`` is the table: each action names the roles that may do it anywhere in their grant's
scope, the roles that may do it only to their own things (a citizen's own report), and whether
anyone at all, even anonymous, may do it. Two roles are not listed per action: a city admin may do
everything, and a district admin everything within its area.

Scope: a city grant covers everything; an area grant covers an object whose area chain contains
the grant's code; a department grant covers an object assigned to that department. An object
with no area chain and no department (a city-level setting, an unlocated report) is covered only
by city grants. To ask "may this principal do this anywhere" (before listing, or to draw a menu)
use ``can_somewhere``, then narrow the rows with ``reach``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from onegrid.core.errors import PermissionDenied
from onegrid.core.masking import mask_email, mask_name, mask_phone
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, ScopeKind

R = Role


@dataclass(frozen=True)
class Rule:
    summary: str
    roles: frozenset[Role] = frozenset()
    own: frozenset[Role] = frozenset()
    public: bool = False
    # Only the server itself acting (PrincipalKind.SYSTEM) with one of ``roles``; no person, no
    # API key and no admin.
    system: bool = False
    # Roles that may do it only through a department grant, to objects assigned to that very
    # department: a department's own system acting by its API key. The same role under a city
    # or area grant (a citizens' front end such as FixMyStreet) may not.
    department: frozenset[Role] = frozenset()


def _rule(
    summary: str,
    *roles: Role,
    own: Iterable[Role] = (),
    public: bool = False,
    system: bool = False,
    department: Iterable[Role] = (),
) -> Rule:
    return Rule(summary, frozenset(roles), frozenset(own), public, system, frozenset(department))


# A department's own system (open311-adapter style) moves the cases dispatched to its department
# as the department's handlers do, by posting Open311 updates (docs/open311.md); the case
# service takes those steps under ``open311.department_update``, not the steps' own rules.
_DEPT_SYSTEM = (R.OPEN311_CLIENT,)


_CASE_STAFF = (
    R.INSPECTOR,
    R.REGISTRAR,
    R.SHIFT_LEADER,
    R.DISPATCHER,
    R.DEPARTMENT_HANDLER,
    R.HOTLINE_OPERATOR,
)
_STAFF = (*_CASE_STAFF, R.ANALYST)

ACTIONS: Mapping[str, Rule] = {
    # The case workflow (collect → file → dispatch → handle → report back → check → close).
    "case.create": _rule(
        "report a problem",
        R.CITIZEN,
        R.INSPECTOR,
        R.REGISTRAR,
        R.SHIFT_LEADER,
        R.HOTLINE_OPERATOR,
        R.OPEN311_CLIENT,
        R.SENSOR_GATEWAY,
        public=True,
    ),
    "case.verify": _rule("verify a public report on site (核实)", R.INSPECTOR),
    # The 12345 centre takes the call and sends it straight to the unit (直派, within minutes), so
    # its operators decide on verification, file and dispatch their own hotline cases.
    "case.verify.request": _rule(
        "ask an inspector to verify", R.REGISTRAR, R.SHIFT_LEADER, R.HOTLINE_OPERATOR
    ),
    "case.file": _rule("file a case (立案)", R.SHIFT_LEADER, R.HOTLINE_OPERATOR),
    "case.cancel": _rule("cancel an invalid report (作废)", R.SHIFT_LEADER),
    "case.dispatch": _rule("send a case to a department (派遣)", R.DISPATCHER, R.HOTLINE_OPERATOR),
    # A department's own system takes these steps only through ``open311.department_update``
    # (the Open311 safeguards: its own photos, once per update_id), never by these rules.
    "case.accept": _rule("accept a dispatched case", R.DEPARTMENT_HANDLER),
    "case.return": _rule("return a wrongly dispatched case (回退)", R.DEPARTMENT_HANDLER),
    "case.handle": _rule("record handling work", R.DEPARTMENT_HANDLER),
    "case.report_back": _rule("report the result back", R.DEPARTMENT_HANDLER),
    "case.check": _rule("check the result on site (核查)", R.INSPECTOR),
    "case.close": _rule("close a case (结案)", R.SHIFT_LEADER),
    "case.rework": _rule("send a case back for rework (返工)", R.SHIFT_LEADER),
    "case.extend.request": _rule("ask for more time (延期)", R.DEPARTMENT_HANDLER),
    "case.extend.approve": _rule("approve or refuse an extension", R.SHIFT_LEADER),
    "case.hold.request": _rule("ask to park a case (挂账)", R.DEPARTMENT_HANDLER),
    "case.hold": _rule(
        "park a case, or approve or refuse a hold request; hold time does not count",
        R.SHIFT_LEADER,
    ),
    "case.resume": _rule("resume a held case", R.SHIFT_LEADER),
    "case.reopen": _rule("reopen a closed case", R.SHIFT_LEADER, R.HOTLINE_OPERATOR),
    # Confirming a proposed duplicate is a merge and undoing it is the same decision, so the
    # dispatcher, who decides proposals before dispatching (glossary: duplicate), merges too.
    "case.merge": _rule(
        "merge duplicates, or confirm or undo a proposed one",
        R.REGISTRAR,
        R.SHIFT_LEADER,
        R.DISPATCHER,
        R.HOTLINE_OPERATOR,
    ),
    "case.split": _rule("split a multi-problem report", R.REGISTRAR, R.SHIFT_LEADER),
    "case.auto_close": _rule(
        "close a sensor case whose condition cleared (the system only)",
        R.SENSOR_GATEWAY,
        system=True,
    ),
    "case.comment": _rule("add a note or attachment", *_CASE_STAFF, own=(R.CITIZEN,)),
    "case.evaluate": _rule("rate how a case was handled", own=(R.CITIZEN,)),
    "case.read": _rule("see a case and its history", *_CASE_STAFF, own=(R.CITIZEN,)),
    "case.read_public": _rule("see a case's public view", public=True),
    "case.read_personal_data": _rule(
        "see the reporter's name and phone unmasked",
        R.HOTLINE_OPERATOR,
        R.REGISTRAR,
        R.SHIFT_LEADER,
        R.DISPATCHER,
        R.DEPARTMENT_HANDLER,
        own=(R.CITIZEN,),
    ),
    # The 12345 hotline.
    "hotline.intake": _rule("record a call or message", R.HOTLINE_OPERATOR),
    "hotline.callback": _rule("call the requester back (回访)", R.HOTLINE_OPERATOR),
    # Reference data.
    "grid.read": _rule("see areas, unit grids and coverage", *_STAFF),
    "grid.admin": _rule("load and edit areas, unit grids, duty rules"),
    "assets.read": _rule("see the component inventory", *_STAFF),
    "assets.admin": _rule("load and edit components and the taxonomy"),
    "people.read": _rule("see departments and colleagues", *_STAFF),
    "people.admin": _rule("manage users, grants, departments and API keys"),
    "config.admin": _rule("see, check and save the city's time limits and working calendar"),
    # Data, sensing and interfaces.
    "analytics.read": _rule(
        "see rates, rankings, hotspots",
        R.ANALYST,
        R.SHIFT_LEADER,
        R.DISPATCHER,
        R.DEPARTMENT_HANDLER,
    ),
    # Case-level rows with exact places: narrowed to the grant's area or department (``reach``).
    "analytics.export": _rule(
        "export the lake's cases within one's scope",
        R.ANALYST,
        R.SHIFT_LEADER,
        R.DISPATCHER,
        R.DEPARTMENT_HANDLER,
    ),
    "analytics.publish": _rule("publish open data from the lake"),
    # The month's topic is the city's choice: checked with no area, so only city-wide grants.
    "analytics.choose_topic": _rule("choose the month's topic (每月一题)"),
    "sensing.ingest": _rule("post sensor readings and alerts", R.SENSOR_GATEWAY),
    "sensing.admin": _rule("register devices and alert rules"),
    "open311.post": _rule("post service requests through Open311", R.OPEN311_CLIENT),
    "open311.department_update": _rule(
        "post a department system's updates on the cases dispatched to its department",
        department=_DEPT_SYSTEM,
    ),
    "ledger.read": _rule("read the audit log and its proofs", R.ANALYST),
}


class UnknownActionError(KeyError):
    """A programming error: the action is not in the table (a typo would otherwise deny)."""


def rule_for(action: str) -> Rule:
    try:
        return ACTIONS[action]
    except KeyError:
        raise UnknownActionError(
            f"unknown action {action!r}; add it to people.policy.ACTIONS"
        ) from None


def roles_for(action: str) -> frozenset[Role]:
    """Every role that may do the action somewhere (admins included)."""
    rule = rule_for(action)
    if rule.system:
        return rule.roles
    return rule.roles | rule.own | rule.department | {R.CITY_ADMIN, R.DISTRICT_ADMIN}


def role_labels(action: str) -> list[str]:
    """``roles_for`` in words, sorted: a department-only role is marked as such, so a key of
    that role under a city or area grant is not told its role may."""
    rule = rule_for(action)
    only = rule.department - rule.roles
    return sorted(
        f"{r.value} (department-scoped key only)" if r in only else r.value
        for r in roles_for(action)
    )


def _role_allows(role: Role, rule: Rule) -> bool:
    if rule.system:
        return role in rule.roles
    return role in (R.CITY_ADMIN, R.DISTRICT_ADMIN) or role in rule.roles


def _department_allows(grant: Grant, rule: Rule) -> bool:
    """A department-only role under a department grant (its reach is that department alone)."""
    return (
        grant.role in rule.department
        and grant.scope.kind is ScopeKind.DEPARTMENT
        and not _role_allows(grant.role, rule)
    )


def _kind_allows(principal: Principal, rule: Rule) -> bool:
    return principal.kind is PrincipalKind.SYSTEM or not rule.system


def _covers(grant: Grant, area_chain: Sequence[str], department_code: str | None) -> bool:
    scope = grant.scope
    if scope.kind is ScopeKind.CITY:
        return True
    if scope.kind is ScopeKind.AREA:
        return scope.code in area_chain
    return department_code is not None and scope.code == department_code


def _owns(principal: Principal, owner_id: int | None) -> bool:
    return (
        principal.kind is PrincipalKind.USER
        and owner_id is not None
        and principal.subject_id == owner_id
    )


def _grant_allows(
    principal: Principal,
    grant: Grant,
    rule: Rule,
    area_chain: Sequence[str],
    department_code: str | None,
    owner_id: int | None,
) -> bool:
    if grant.role in rule.own and _owns(principal, owner_id):
        return True
    if _department_allows(grant, rule):
        return department_code is not None and grant.scope.code == department_code
    return _role_allows(grant.role, rule) and _covers(grant, area_chain, department_code)


def can(
    principal: Principal,
    action: str,
    *,
    area_chain: Sequence[str] = (),
    department_code: str | None = None,
    owner_id: int | None = None,
) -> bool:
    """May ``principal`` do ``action`` to an object in ``area_chain``, assigned to
    ``department_code``, owned by user ``owner_id``?"""
    rule = rule_for(action)
    if rule.public:
        return True
    return _kind_allows(principal, rule) and any(
        _grant_allows(principal, g, rule, area_chain, department_code, owner_id)
        for g in principal.grants
    )


def require(
    principal: Principal,
    action: str,
    *,
    area_chain: Sequence[str] = (),
    department_code: str | None = None,
    owner_id: int | None = None,
) -> None:
    """Raise ``PermissionDenied`` naming the action and why, unless ``can`` says yes."""
    if not can(
        principal,
        action,
        area_chain=area_chain,
        department_code=department_code,
        owner_id=owner_id,
    ):
        raise PermissionDenied(
            explain(principal, action, area_chain=area_chain, department_code=department_code)
        )


def can_somewhere(principal: Principal, action: str) -> bool:
    """Does any grant allow the action at all (for some object in its scope)?"""
    rule = rule_for(action)
    if rule.public:
        return True
    return _kind_allows(principal, rule) and any(
        _role_allows(g.role, rule) or g.role in rule.own or _department_allows(g, rule)
        for g in principal.grants
    )


def require_somewhere(principal: Principal, action: str) -> None:
    if not can_somewhere(principal, action):
        raise PermissionDenied(explain(principal, action))


def allowed_actions(principal: Principal) -> list[str]:
    """The actions the principal may do somewhere, sorted: what a user interface may offer."""
    return sorted(a for a in ACTIONS if can_somewhere(principal, a))


@dataclass(frozen=True)
class Reach:
    """Which objects an action reaches, for narrowing a query: everything, or objects whose
    area chain meets ``area_codes``, or assigned to one of ``department_codes``, or (when
    ``own`` is set) created by the principal themselves."""

    everywhere: bool = False
    area_codes: frozenset[str] = field(default_factory=frozenset)
    department_codes: frozenset[str] = field(default_factory=frozenset)
    own: bool = False

    @property
    def nothing(self) -> bool:
        return not (self.everywhere or self.area_codes or self.department_codes or self.own)

    def covers(
        self,
        area_chain: Sequence[str] = (),
        department_code: str | None = None,
        *,
        owned: bool = False,
    ) -> bool:
        return (
            self.everywhere
            or bool(self.area_codes.intersection(area_chain))
            or (department_code is not None and department_code in self.department_codes)
            or (self.own and owned)
        )


def reach(principal: Principal, action: str) -> Reach:
    rule = rule_for(action)
    if rule.public:
        return Reach(everywhere=True)
    if not _kind_allows(principal, rule):
        return Reach()
    areas: set[str] = set()
    departments: set[str] = set()
    everywhere = own = False
    for g in principal.grants:
        if g.role in rule.own and principal.kind is PrincipalKind.USER:
            own = True
        if _department_allows(g, rule):
            departments.add(g.scope.code)
            continue
        if not _role_allows(g.role, rule):
            continue
        if g.scope.kind is ScopeKind.CITY:
            everywhere = True
        elif g.scope.kind is ScopeKind.AREA:
            areas.add(g.scope.code)
        else:
            departments.add(g.scope.code)
    if everywhere:
        return Reach(everywhere=True)
    return Reach(False, frozenset(areas), frozenset(departments), own)


def explain(
    principal: Principal,
    action: str,
    *,
    area_chain: Sequence[str] = (),
    department_code: str | None = None,
) -> str:
    """Why ``action`` is refused, in words a user can act on."""
    rule = rule_for(action)
    who = "anonymous callers" if principal.is_anonymous else principal.name
    if not _kind_allows(principal, rule):
        return f"not allowed to {action} ({rule.summary}): only the system itself does this"
    entitled = sorted(
        g for g in principal.grants if _role_allows(g.role, rule) or _department_allows(g, rule)
    )
    if not entitled:
        held = ", ".join(sorted({g.role.value for g in principal.grants}))
        verb = "hold" if principal.is_anonymous else "holds"
        holding = f"{who} {verb} {held}" if held else f"{who} {verb} no role"
        allowed = ", ".join(role_labels(action))
        own = sorted(r.value for r in rule.own & principal.roles)
        only_own = f"; a {'/'.join(own)} may do it only to their own things" if own else ""
        dept = sorted(r.value for r in (rule.department - rule.roles) & principal.roles)
        only_dept = (
            f"; {'/'.join(dept)} may do it only under a department grant (a department-scoped "
            "key), to that department's objects"
            if dept
            else ""
        )
        return (
            f"not allowed to {action} ({rule.summary}): {holding}{only_own}{only_dept}; "
            f"roles that may: {allowed}"
        )
    grants = ", ".join(str(g) for g in entitled)
    where = []
    if area_chain:
        where.append("area " + " > ".join(area_chain))
    if department_code:
        where.append(f"department {department_code}")
    target = " and ".join(where) or "an object with no area or department (city grants only)"
    return f"not allowed to {action} here: {who}'s grants {grants} do not cover {target}"


def can_see_personal_data(
    principal: Principal,
    area_chain: Sequence[str] = (),
    department_code: str | None = None,
    *,
    owner_id: int | None = None,
) -> bool:
    """Reporters' names, phones and e-mails are shown only to those who must call them back."""
    return can(
        principal,
        "case.read_personal_data",
        area_chain=area_chain,
        department_code=department_code,
        owner_id=owner_id,
    )


@dataclass(frozen=True)
class Reporter:
    """Who reported a problem: personal data, masked for most eyes."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None

    def masked(self) -> Reporter:
        return Reporter(mask_name(self.name), mask_phone(self.phone), mask_email(self.email))


def reporter_for(
    principal: Principal,
    reporter: Reporter,
    *,
    area_chain: Sequence[str] = (),
    department_code: str | None = None,
    owner_id: int | None = None,
) -> Reporter:
    """The reporter as ``principal`` may see them: in full or masked (``138****5678``)."""
    if can_see_personal_data(principal, area_chain, department_code, owner_id=owner_id):
        return reporter
    return reporter.masked()
