"""Use cases for departments, users and grants: the only write path for them.

Each function does one use case inside the caller's transaction (a request's or a command's
unit of work) and only flushes; the caller commits or rolls back the whole. ``by`` is the
principal acting; ``None`` means the trusted operator at the console (CLI, demo builder).
"""

from onegrid.people.services.common import as_grant, require_grantable
from onegrid.people.services.departments import (
    DepartmentPatch,
    create_department,
    update_department,
)
from onegrid.people.services.users import (
    UserPatch,
    add_grant,
    create_user,
    end_sessions,
    remove_grant,
    set_password,
    update_user,
)

__all__ = [
    "DepartmentPatch",
    "UserPatch",
    "add_grant",
    "as_grant",
    "create_department",
    "create_user",
    "end_sessions",
    "remove_grant",
    "require_grantable",
    "set_password",
    "update_department",
    "update_user",
]
