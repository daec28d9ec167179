"""What the case API keeps from those who may not see it, and the job the server runs itself."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onegrid.cases.config import CasesSettings, case_rules
from onegrid.cases.history import history_of
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, create, png
from tests.integration.cases.city import CORE
from tests.integration.cases.helpers import new_case

pytestmark = pytest.mark.postgres


def test_lists_and_histories_mask_reporters_for_those_who_may_not_see_them(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    own = create(client, as_["citizen"], channel="web_app")
    listed_by_inspector = client.get(BASE, headers=as_["insp"]).json()["items"]
    assert [c["reporter"] for c in listed_by_inspector] == [
        {"name": "张*", "phone": "138****5678", "email": None, "masked": True}
    ]
    listed_by_leader = client.get(BASE, headers=as_["leader"]).json()["items"]
    assert listed_by_leader[0]["reporter"]["phone"] == "13812345678"
    # The citizen's account name is in the "create" entry: masked for the inspector.
    seen = client.get(f"{BASE}/{own['id']}/history", headers=as_["insp"]).json()
    assert seen[0]["actor"] == "reporter" and seen[0]["actor_name"] == "c******"
    full = client.get(f"{BASE}/{own['id']}/history", headers=as_["leader"]).json()
    assert full[0]["actor_name"] == "citizen" and full[0]["actor"].startswith("user:")
    mine = client.get(f"{BASE}/{own['id']}/history", headers=as_["citizen"]).json()
    assert mine[0]["actor_name"] == "citizen"


def test_attachments_are_served_only_to_readers_of_the_case(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = create(client, as_["insp"])
    up = client.post(
        f"{BASE}/{case['id']}/attachments",
        headers=as_["insp"],
        files={"file": ("scene.png", png(), "image/png")},
    )
    assert up.status_code == 201, up.text
    url = f"{BASE}/{case['id']}/attachments/{up.json()['id']}"
    got = client.get(url, headers=as_["leader"])
    assert got.status_code == 200 and got.content == png()
    assert got.headers["content-type"] == "image/png"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=as_["roads"]).status_code == 403  # not their case
    assert client.get(url, headers=as_["analyst"]).status_code == 403
    other = create(client, as_["insp"])
    wrong = client.get(f"{BASE}/{other['id']}/attachments/{up.json()['id']}", headers=as_["leader"])
    assert wrong.status_code == 404  # an attachment is reached only through its own case


def test_the_server_runs_the_overdue_job_itself_once(
    city: Database,
    clock: FixedClock,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from onegrid.api.app import create_app

    rules = case_rules("Asia/Shanghai")
    rec = new_case(city, clock, rules)  # dispatch step: 2 working hours from Monday 09:00
    clock.set(datetime(2026, 3, 2, 4, 0, tzinfo=UTC))  # Monday 12:00 Beijing: 3 h used of 2
    monkeypatch.setattr(
        "onegrid.api.v1.cases.cases_settings",
        lambda: CasesSettings(scheduler_interval_seconds=0.05),
    )
    with TestClient(create_app(settings, db=city, clock=clock)):
        deadline = time.monotonic() + 20
        escalated = False
        while time.monotonic() < deadline and not escalated:
            time.sleep(0.05)
            with city.reader() as s:
                escalated = get_case(s, rec.id).escalation_tier == 1
        assert escalated, "the in-server job did not escalate the overdue case"
        time.sleep(0.4)  # several more runs: nothing more may change
    with city.reader() as s:
        case = get_case(s, rec.id)
        entries = history_of(s, rec.id)
    assert (case.escalation_tier, case.escalated_to, case.version) == (1, CORE, 2)
    assert [e.action for e in entries] == ["create", "escalate"]


def test_every_case_body_and_the_case_itself_have_valid_examples(tmp_path: Path) -> None:
    from onegrid.api.app import create_app
    from onegrid.cases import schemas

    spec = create_app(Settings(data_dir=tmp_path)).openapi()  # no database needed
    components = spec["components"]["schemas"]
    bodies: dict[str, str] = {}  # model name → component (qualified when names clash)
    for path, ops in spec["paths"].items():
        if not path.startswith(BASE):
            continue
        for op in ops.values():
            content = op.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if ref:
                component = ref.rsplit("/", 1)[1]
                bodies[component.rsplit("__", 1)[-1]] = component
    assert {"CaseCreate", "DispatchIn", "CheckIn", "MergeIn", "SplitIn"} <= set(bodies)
    bodies["CaseOut"] = "CaseOut"
    for name, component in sorted(bodies.items()):
        assert components[component].get("examples"), f"{name} has no example"
        model = getattr(schemas, name)
        # The document drops nulls from examples, so check the models' own: an example that
        # does not validate would mislead whoever copies it.
        for example in model.model_json_schema()["examples"]:
            model.model_validate(example)
