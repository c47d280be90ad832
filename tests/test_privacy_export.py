"""Export (issue 13 item 2): one JSON document with everything stored about the relative."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from guide.api.privacy import EXPORT_SCHEMA
from tests.checkin_support import KONTROLL_CONTENT, log_in_relative, relative_token
from tests.privacy_support import (
    CONTACT_EMAIL,
    CONTROL_EMAIL,
    CONTROL_MESSAGE,
    EMAIL,
    FREE_ANSWER,
    MESSAGE,
    PHONE,
    STAFF_NOTE,
    relative_with_everything,
)


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def undocumented(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Name every field of `value` the schema does not describe, and every one it lacks."""
    problems: list[str] = []
    if isinstance(value, list):
        for item in value:
            problems += undocumented(item, schema["items"], f"{path}[]")
        return problems
    if not isinstance(value, dict) or "properties" not in schema:
        return problems
    properties = schema["properties"]
    for key in value:
        if key not in properties:
            problems.append(f"{path}.{key} is not documented")
        elif not properties[key].get("description") and "properties" not in properties[key]:
            problems.append(f"{path}.{key} has no description")
        else:
            problems += undocumented(value[key], properties[key], f"{path}.{key}")
    problems += [
        f"{path}.{key} is documented but missing" for key in properties if key not in value
    ]
    return problems


def test_the_export_holds_every_kind_of_data_and_nothing_of_others(
    app: Flask, client: FlaskClient
) -> None:
    case = relative_with_everything()
    answer = client.get("/api/v1/me/export", headers=relative_token(case.relative))
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    data = answer.json
    text = json.dumps(data, ensure_ascii=False)
    for datum in (EMAIL, PHONE, CONTACT_EMAIL, MESSAGE, FREE_ANSWER, STAFF_NOTE):
        assert datum in text, datum
    assert CONTROL_EMAIL not in text and CONTROL_MESSAGE not in text

    assert data["account"]["email"] == EMAIL
    assert {(c["purpose"], c["granted"]) for c in data["consents"]} == {
        ("service", True),
        ("contact", True),
        ("statistics", True),
    }
    assert all(c["version"] for c in data["consents"])
    [enrolment] = data["enrolments"]
    assert enrolment["profile"] == {"bor-ihop": "yes"}
    assert enrolment["answers"]["ovrigt"] == FREE_ANSWER
    assert {"valkommen", "orka"} <= {r["module"] for r in enrolment["releases"]}
    assert all(r["title"] for r in enrolment["releases"])
    answered = [c for c in enrolment["checkins"] if c["answered_at"]]
    assert answered and answered[0]["answers"]["ovrigt"] == FREE_ANSWER
    assert [(n["module"], n["need"]) for n in enrolment["needs"]] == [("valkommen", "prata")]
    [alert] = enrolment["alerts"]
    assert (alert["phone"], alert["contact_email"], alert["message"]) == (
        PHONE,
        CONTACT_EMAIL,
        MESSAGE,
    )
    assert [n["note"] for n in alert["notes"]] == [STAFF_NOTE]
    assert {"released", "checkin_answered", "contact_requested"} <= {
        e["kind"] for e in enrolment["events"]
    }
    assert any(m["kind"] == "welcome" and m["sent_at"] and m["subject"] for m in data["mails"])


def test_every_exported_field_is_documented_in_the_openapi_document(
    app: Flask, client: FlaskClient
) -> None:
    case = relative_with_everything()
    data = client.get("/api/v1/me/export", headers=relative_token(case.relative)).json
    assert undocumented(data, EXPORT_SCHEMA) == []
    document = client.get("/api/v1/openapi.json").json
    served = document["paths"]["/me/export"]["get"]["responses"]["200"]["content"]
    assert served["application/json"]["schema"] == EXPORT_SCHEMA
    assert "delete" in document["paths"]["/me"]


def test_the_download_button_gives_the_same_document(app: Flask, client: FlaskClient) -> None:
    case = relative_with_everything()
    log_in_relative(client, case.relative)
    page = client.get("/mina-installningar/").get_data(as_text=True)
    assert 'href="/mina-installningar/mina-uppgifter.json" download' in page
    download = client.get("/mina-installningar/mina-uppgifter.json")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Cache-Control"] == "no-store"
    api = client.application.test_client().get(
        "/api/v1/me/export", headers=relative_token(case.relative)
    )
    assert json.loads(download.get_data(as_text=True)) == api.json


def test_the_export_names_follow_up_calls_and_the_named_contact_person(
    app: Flask, client: FlaskClient
) -> None:
    from datetime import timedelta

    from guide.extensions import db
    from guide.models import ContactPerson, FollowupCall, StaffProfile
    from tests.conftest import at
    from tests.factories import enrol, issue_cards, make_tenant

    tenant = make_tenant()
    (card,) = issue_cards(tenant.unit, 1, "kontroll", now=at("2026-05-04 10:00"))
    enrolment = enrol(card, "kalle@example.se", now=at("2026-05-05 10:00"))
    due = at("2026-05-08 09:00")
    db.session.add(
        FollowupCall(
            enrolment_id=enrolment.id,
            followup_id="ring-efter-nagra-dagar",
            due_at=due,
            target_at=due + timedelta(days=7),
            outcome="offered",
        )
    )
    db.session.add(ContactPerson(enrolment_id=enrolment.id, staff_user_id=tenant.staff.id))
    db.session.add(
        StaffProfile(staff_user_id=tenant.staff.id, display_name="Karin", role="", reach="")
    )
    db.session.commit()
    exported = client.get("/api/v1/me/export", headers=relative_token(enrolment.relative))
    assert exported.status_code == 200
    (entry,) = exported.get_json()["enrolments"]
    assert [c["followup"] for c in entry["followup_calls"]] == ["ring-efter-nagra-dagar"]
    assert entry["followup_calls"][0]["outcome"] == "offered"
    assert entry["contact_person"] == "Karin"
    assert undocumented(exported.get_json(), EXPORT_SCHEMA) == []
