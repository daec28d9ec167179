"""The frame every Open311 GET shares: check the format, the JSONP callback and the
jurisdiction, build the body, render it, and turn an Open311Error from any of those steps into
the error list."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi.responses import Response

from onegrid.api.open311.errors import Open311Error, error_response
from onegrid.api.open311.formats import render
from onegrid.api.open311.params import (
    Jurisdiction,
    check_format,
    check_jurisdiction,
    jsonp_callback,
)
from onegrid.core.settings import Settings


def reply(
    fmt: str,
    params: Mapping[str, str],
    settings: Settings,
    body: Callable[[Jurisdiction | None], Sequence[Any] | Mapping[str, Any]],
    root: str,
    item: str | None = None,
    *,
    jurisdiction_required: bool = True,
) -> Response:
    """``body`` gets the jurisdiction the call is scoped to (``None``: no scope)."""
    # body is called only after these checks, so a bad format, callback or jurisdiction wins
    # over bad parameters. A bad callback itself is answered unwrapped.
    callback = None
    try:
        check_format(fmt)
        callback = jsonp_callback(params, fmt)
        scope = check_jurisdiction(params, settings, required=jurisdiction_required)
        return render(fmt, body(scope), root, item, callback=callback)
    except Open311Error as exc:
        return error_response(fmt, exc, callback)
