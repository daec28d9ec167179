"""A service's refusal is told in the fields an Open311 client sent, not the case service's."""

from __future__ import annotations

import pytest

from onegrid.api.open311.errors import from_domain
from onegrid.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("field", "sent"),
    [
        ("action", "status"),  # a department system's status names the workflow step
        ("attachments", "media"),  # its photos (media, photoN, media_url) are the attachments
        ("reason", "description"),
        ("lon", "long"),
    ],
)
def test_a_field_problem_names_what_the_client_sent(field: str, sent: str) -> None:
    error = from_domain(InvalidInput.one(field, "some_rule", "what is wrong"))
    assert (error.status, error.descriptions) == (400, (f"{sent}: what is wrong",))
