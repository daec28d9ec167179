"""The HTTP batch: the same checks and rules as MQTT, but all or nothing.

A batch with any refused entry stores no reading and answers 422 naming every refused field
(``readings[3].values.pm2_5``) and its reason; the refusals are still counted and kept as dead
letters. A database that stays busy or unreachable for a few tries ends in
``StoreUnavailable`` (the API's 503), with nothing stored. A gateway whose grant covers an
area may post only for devices in that area.
"""

from __future__ import annotations

from onegrid.core.errors import FieldProblem, InvalidInput, PermissionDenied
from onegrid.people.domain import Principal
from onegrid.people.policy import can, can_somewhere, require
from onegrid.sensing.domain.devices import Device
from onegrid.sensing.domain.readings import Reason
from onegrid.sensing.ingest.pipeline import HTTP_ATTEMPTS, Message, Outcome, Pipeline

INGEST = "sensing.ingest"
MAX_BODY = 16 * 1024 * 1024


def ingest_batch(pipeline: Pipeline, principal: Principal, body: bytes) -> Outcome:
    """Store a batch of readings posted over HTTP, or refuse it whole."""
    if len(body) > MAX_BODY:
        raise InvalidInput.one(
            "body", "max_size", f"a batch is at most {MAX_BODY // (1024 * 1024)} MiB"
        )
    everywhere = can(principal, INGEST)

    def allow(device: Device) -> bool:
        return everywhere or can(principal, INGEST, area_chain=tuple(device.areas.values()))

    if not can_somewhere(principal, INGEST):
        require(principal, INGEST)  # refuses, naming the action
    pipeline.refresh()
    message = Message("http", None, body, pipeline.clock.now().timestamp())
    outcome = pipeline.process([message], all_or_nothing=True, allow=allow, attempts=HTTP_ATTEMPTS)
    if outcome.rejections:
        forbidden = [r for r in outcome.rejections if r.reason is Reason.FORBIDDEN_DEVICE]
        if forbidden:
            raise PermissionDenied(forbidden[0].detail)
        raise InvalidInput(
            [FieldProblem(r.field or "body", r.reason.value, r.detail) for r in outcome.rejections]
        )
    return outcome
