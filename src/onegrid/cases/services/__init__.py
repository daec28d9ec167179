"""The case use cases: the only write path for cases and their history.

Each public function owns one transaction (``*_in`` variants work inside the caller's, for use
cases that record more with the case, such as a hotline call).
"""

from onegrid.cases.services.creating import (
    CHANNEL_ROLES,
    Created,
    body_fingerprint,
    create_case,
    create_case_in,
)
from onegrid.cases.services.structure import (
    SplitPart,
    SplitResult,
    merge_case,
    merge_case_in,
    split_case,
    split_case_in,
)
from onegrid.cases.services.transitions import (
    accept_case,
    act,
    act_in,
    approve_extension,
    cancel_case,
    check_case,
    close_case,
    dispatch_case,
    file_case,
    handle_case,
    hold_case,
    refuse_extension,
    reopen_case,
    report_back_case,
    request_extension,
    resume_case,
    return_case,
    rework_case,
    send_back_for_requester_in,
    verify_case,
)

__all__ = [
    "CHANNEL_ROLES",
    "Created",
    "SplitPart",
    "SplitResult",
    "accept_case",
    "act",
    "act_in",
    "approve_extension",
    "body_fingerprint",
    "cancel_case",
    "check_case",
    "close_case",
    "create_case",
    "create_case_in",
    "dispatch_case",
    "file_case",
    "handle_case",
    "hold_case",
    "merge_case",
    "merge_case_in",
    "refuse_extension",
    "reopen_case",
    "report_back_case",
    "request_extension",
    "resume_case",
    "return_case",
    "rework_case",
    "send_back_for_requester_in",
    "split_case",
    "split_case_in",
    "verify_case",
]
