"""The editors' API: drafts checked on save, four eyes enforced by the server, publishing, versions."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from guide.extensions import db
from guide.models import ModulePublication, ModuleVersion, StaffRole, StaffUser
from guide.models.base import utcnow
from guide.services.accounts import create_staff
from guide.services.journey import advance_enrolment
from guide.services.library import current_library
from guide.services.reading import module_page
from tests.conftest import FIXTURE_CONTENT
from tests.factories import PASSWORD, enrol, issue_cards, make_tenant, staff_token

VALKOMMEN = (FIXTURE_CONTENT / "stod" / "modules" / "valkommen.md").read_text(encoding="utf-8")
EDITED = VALKOMMEN.replace("Hej och välkommen.", "Hej och varmt välkommen.")


@pytest.fixture
def editors(app: Flask) -> tuple[StaffUser, StaffUser]:
    tenant = make_tenant()
    first = create_staff(
        db.session, "anna@redaktion.se", StaffRole.EDITOR, tenant.organisation, None, PASSWORD
    )
    second = create_staff(
        db.session, "bo@redaktion.se", StaffRole.EDITOR, tenant.organisation, None, PASSWORD
    )
    db.session.commit()
    return first, second


def live_id(client: FlaskClient, headers: dict[str, str], module: str = "valkommen") -> int:
    rows = client.get("/api/v1/editor/modules?guide=stod", headers=headers).get_json()["modules"]
    return next(r["live_version"] for r in rows if r["module"] == module)


def draft(client: FlaskClient, headers: dict[str, str], source: str, base: Any) -> Any:
    return client.post(
        "/api/v1/editor/drafts",
        json={"guide": "stod", "module": "valkommen", "source": source, "base_version": base},
        headers=headers,
    )


def test_a_draft_is_checked_on_save_and_problems_name_line_and_field(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna = staff_token(editors[0])
    broken = VALKOMMEN.replace("phase: start", "phase: start\nrelase: {after: 1d}").replace(
        "{{ local.anhorigstod.telefon }}", "{{ local.finns.inte }}"
    )
    answer = draft(client, anna, broken, live_id(client, anna))
    assert answer.status_code == 201
    problems = answer.get_json()["problems"]
    unknown = next(p for p in problems if "relase" in p["message"])
    assert (unknown["line"], unknown["field"]) == (5, "relase")
    undeclared = next(p for p in problems if "finns.inte" in p["message"])
    assert undeclared["field"] == "body" and undeclared["line"] == 13
    refused = client.post(f"/api/v1/editor/drafts/{answer.get_json()['id']}/submit", headers=anna)
    assert refused.status_code == 422 and refused.get_json()["error"] == "draft_has_errors"


def test_the_author_cannot_approve_their_own_draft(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna = staff_token(editors[0])
    made = draft(client, anna, EDITED, live_id(client, anna)).get_json()
    assert made["problems"] == [] and made["state"] == "utkast"
    assert (
        client.post(f"/api/v1/editor/drafts/{made['id']}/submit", headers=anna).status_code == 200
    )
    own = client.post(
        f"/api/v1/editor/drafts/{made['id']}/review",
        json={"decision": "approve", "comment": ""},
        headers=anna,
    )
    assert own.status_code == 403
    assert own.get_json()["error"] == "self_review"
    assert "eget utkast" in own.get_json()["message"]
    published = client.post(f"/api/v1/editor/drafts/{made['id']}/publish", headers=anna)
    assert published.status_code == 409 and published.get_json()["error"] == "not_approved"


def test_review_sends_back_with_a_comment_and_approval_lets_it_publish(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna, bo = staff_token(editors[0]), staff_token(editors[1])
    base = live_id(client, anna)
    made = draft(client, anna, EDITED, base).get_json()
    url = f"/api/v1/editor/drafts/{made['id']}"
    client.post(f"{url}/submit", headers=anna)
    no_comment = client.post(f"{url}/review", json={"decision": "reject"}, headers=bo)
    assert no_comment.status_code == 400 and no_comment.get_json()["error"] == "comment_required"
    back = client.post(
        f"{url}/review", json={"decision": "reject", "comment": "Kortare, tack."}, headers=bo
    ).get_json()
    assert back["state"] == "atervisad" and back["comment"] == "Kortare, tack."
    client.post(f"{url}/submit", headers=anna)
    approved = client.post(f"{url}/review", json={"decision": "approve"}, headers=bo).get_json()
    assert approved["state"] == "godkand" and approved["reviewer"] == "bo@redaktion.se"
    published = client.post(f"{url}/publish", headers=anna)
    assert published.status_code == 200
    version = published.get_json()["version"]
    assert version != base
    assert (
        db.session.get(ModuleVersion, version)
        .texts["sv"]["body"]
        .startswith("Hej och varmt välkommen.")
    )
    assert live_id(client, anna) == version
    versions = client.get("/api/v1/editor/modules/stod/valkommen/versions", headers=anna)
    rows = versions.get_json()["versions"]
    assert [r["version"] for r in rows] == [base, version]
    assert rows[1]["author"] == "anna@redaktion.se" and rows[1]["reviewer"] == "bo@redaktion.se"
    assert rows[1]["live"] and not rows[0]["live"]
    diff = client.get(
        f"/api/v1/editor/modules/stod/valkommen/diff?from={base}&to={version}", headers=anna
    ).get_json()
    assert {"op": "insert", "text": "varmt "} in diff["source"]
    assert {"op": "insert", "text": "varmt "} in diff["rendered"]


def test_saving_or_publishing_over_a_newer_version_is_refused_with_both_texts(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna, bo = staff_token(editors[0]), staff_token(editors[1])
    base = live_id(client, anna)
    first = draft(client, anna, EDITED, base).get_json()
    second = draft(client, bo, VALKOMMEN.replace("korta texter", "små texter"), base).get_json()
    for made, author, reviewer in ((first, anna, bo), (second, bo, anna)):
        client.post(f"/api/v1/editor/drafts/{made['id']}/submit", headers=author)
        client.post(
            f"/api/v1/editor/drafts/{made['id']}/review",
            json={"decision": "approve"},
            headers=reviewer,
        )
    assert (
        client.post(f"/api/v1/editor/drafts/{first['id']}/publish", headers=anna).status_code == 200
    )
    stale = client.post(f"/api/v1/editor/drafts/{second['id']}/publish", headers=bo)
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "stale_base" and "varmt välkommen" in body["live_source"]
    again = draft(client, bo, VALKOMMEN, base)
    assert again.status_code == 409 and again.get_json()["error"] == "stale_base"


def test_a_relative_who_received_the_module_sees_the_new_version_as_updated_once(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna, bo = staff_token(editors[0]), staff_token(editors[1])
    tenant_unit = editors[0].organisation.units[0] if editors[0].organisation else None
    assert tenant_unit is not None
    enrolment = enrol(issue_cards(tenant_unit)[0], "anhorig@example.se")
    db.session.commit()
    assert [r.module_id for r in enrolment.releases].count("valkommen") == 1
    made = draft(client, anna, EDITED, live_id(client, anna)).get_json()
    client.post(f"/api/v1/editor/drafts/{made['id']}/submit", headers=anna)
    client.post(
        f"/api/v1/editor/drafts/{made['id']}/review", json={"decision": "approve"}, headers=bo
    )
    client.post(f"/api/v1/editor/drafts/{made['id']}/publish", headers=anna)
    library = current_library()
    assert library.guide("stod").module("valkommen").original.body.startswith("Hej och varmt")
    advance_enrolment(db.session, library.guide("stod"), enrolment, utcnow())
    assert [r.module_id for r in enrolment.releases].count("valkommen") == 1
    page = module_page(
        db.session, library, enrolment, "valkommen", utcnow(), link_for=lambda _: None
    )
    assert page.updated


def test_retiring_a_module_is_a_reviewed_draft_and_a_referenced_one_is_refused(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna, bo = staff_token(editors[0]), staff_token(editors[1])
    referenced = client.post(
        "/api/v1/editor/drafts",
        json={
            "guide": "stod",
            "module": "avlosning",
            "retire": True,
            "base_version": live_id(client, anna, "avlosning"),
        },
        headers=anna,
    ).get_json()
    assert any("avlosning" in p["message"] for p in referenced["problems"])
    retired = client.post(
        "/api/v1/editor/drafts",
        json={
            "guide": "stod",
            "module": "sedan",
            "retire": True,
            "base_version": live_id(client, anna, "sedan"),
        },
        headers=anna,
    ).get_json()
    assert retired["problems"] == [], retired["problems"]
    url = f"/api/v1/editor/drafts/{retired['id']}"
    client.post(f"{url}/submit", headers=anna)
    client.post(f"{url}/review", json={"decision": "approve"}, headers=bo)
    assert client.post(f"{url}/publish", headers=bo).get_json()["version"] is None
    assert not current_library().guide("stod").has_module("sedan")
    assert db.session.query(ModulePublication).filter_by(module_id="sedan").one().retired


@pytest.mark.parametrize("role", [StaffRole.STAFF, StaffRole.ORG_ADMIN])
def test_other_staff_roles_get_403_from_the_editor_api(
    client: FlaskClient, app: Flask, role: StaffRole
) -> None:
    tenant = make_tenant()
    staff = tenant.staff if role == StaffRole.STAFF else tenant.admin
    headers = staff_token(staff)
    assert client.get("/api/v1/editor/modules", headers=headers).status_code == 403
    answer = draft(client, headers, EDITED, None)
    assert answer.status_code == 403


def approve_and_publish(client: FlaskClient, draft_id: int, author: Any, reviewer: Any) -> Any:
    url = f"/api/v1/editor/drafts/{draft_id}"
    assert client.post(f"{url}/submit", headers=author).status_code == 200
    assert (
        client.post(f"{url}/review", json={"decision": "approve"}, headers=reviewer).status_code
        == 200
    )
    return client.post(f"{url}/publish", headers=author)


def test_a_new_module_and_a_new_translation_are_drafts_like_any_other(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna, bo = staff_token(editors[0]), staff_token(editors[1])
    new = (
        "---\nid: vila\ntitle: Vila\nphase: start\nrelease: {after: 3d}\n"
        "summary: Om att vila.\n---\nDu behöver vila. Ta en paus.\n"
    )
    made = client.post(
        "/api/v1/editor/drafts",
        json={"guide": "stod", "module": "vila", "source": new, "base_version": None},
        headers=anna,
    ).get_json()
    assert made["problems"] == [], made
    published = approve_and_publish(client, made["id"], anna, bo)
    assert published.status_code == 200 and published.get_json()["version"]
    assert current_library().guide("stod").module("vila").original.title == "Vila"
    translation = client.post(
        "/api/v1/editor/drafts",
        json={
            "guide": "stod",
            "module": "vila",
            "language": "en",
            "source": "---\nid: vila\ntitle: Rest\nsummary: On rest.\n---\nYou need rest.\n",
            "base_version": published.get_json()["version"],
        },
        headers=bo,
    ).get_json()
    assert translation["problems"] == [], translation
    assert approve_and_publish(client, translation["id"], bo, anna).status_code == 200
    module = current_library().guide("stod").module("vila")
    assert module.text("en").title == "Rest" and module.text("sv").title == "Vila"


def test_a_draft_diffs_against_the_live_version(
    client: FlaskClient, editors: tuple[StaffUser, StaffUser]
) -> None:
    anna = staff_token(editors[0])
    base = live_id(client, anna)
    made = draft(client, anna, EDITED, base).get_json()
    diff = client.get(
        f"/api/v1/editor/modules/stod/valkommen/diff?from={base}&draft={made['id']}",
        headers=anna,
    ).get_json()
    assert diff["changed"] and diff["to"] == f"utkast {made['id']}"
    assert {"op": "insert", "text": "varmt "} in diff["rendered"]
    unknown = client.get(
        f"/api/v1/editor/modules/stod/valkommen/diff?from={base}&to=999999", headers=anna
    )
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "version_unknown"
