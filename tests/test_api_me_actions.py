"""API for the relative's actions: answering a check-in lists what changed, crisis included."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from guide.extensions import db
from guide.models import Alert, CapturedMail, CheckinInstance
from tests.checkin_support import (
    KONTROLL_CONTENT,
    checkin_opened_now,
    enrolled_now,
    relative_token,
)


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def post_answers(client: FlaskClient, instance: CheckinInstance, answers: object, headers):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/me/checkins/{instance.id}", json={"answers": answers}, headers=headers
    )


def test_open_checkin_is_listed_in_the_journey_with_its_id(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    instance = checkin_opened_now(case.enrolment)
    journey = client.get("/api/v1/me/journey", headers=relative_token(case.relative)).get_json()
    (listed,) = journey["enrolments"][0]["open_checkins"]
    assert (listed["id"], listed["checkin"]) == (instance.id, "hur-gar-det")


def test_answer_lists_what_changed(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    instance = checkin_opened_now(case.enrolment)
    headers = relative_token(case.relative)

    response = post_answers(
        client,
        instance,
        {"ork": 2, "stod": ["familj"], "flyttat": "yes", "ovrigt": None, "kansla": ""},
        headers,
    )

    assert response.status_code == 200
    body = response.get_json()
    alert = db.session.scalars(select(Alert)).one()
    assert body["changes"] == [
        {"type": "release", "id": "orka", "title": "När orken tar slut"},
        {"type": "alert", "id": str(alert.id), "title": "normal"},
        {"type": "phase", "id": "boende", "title": "Särskilt boende"},
        {"type": "release", "id": "boende", "title": "Flytten till boendet"},
        {"type": "checkin", "id": "i-boendet", "title": "I boendet"},
    ]
    assert body["released"] == ["orka", "boende"]
    assert body["phase"] == "boende"
    assert body["alert_raised"] is True and body["crisis"] is None
    assert body["checkin"]["answers"] == {"ork": 2, "stod": ["familj"], "flyttat": "yes"}
    # The journey agrees: the new phase and its check-in are there at once.
    journey = client.get("/api/v1/me/journey", headers=headers).get_json()["enrolments"][0]
    assert journey["phase"]["id"] == "boende"
    assert [c["checkin"] for c in journey["open_checkins"]] == ["i-boendet"]


def test_crisis_answer_returns_the_crisis_text_and_mails_staff_without_personal_data(  # type: ignore[no-untyped-def]
    app, client: FlaskClient
) -> None:
    case = enrolled_now(email="hemlig@example.se")
    instance = checkin_opened_now(case.enrolment)

    response = post_answers(
        client,
        instance,
        {"kansla": "kris", "ovrigt": "Jag vill inte mer"},
        relative_token(case.relative),
    )

    body = response.get_json()
    assert body["crisis"] == "Är någon i fara just nu? Ring 112. Självmordslinjen: 90101."
    assert [c["type"] for c in body["changes"]] == ["crisis", "alert"]
    alert = db.session.scalars(select(Alert)).one()
    assert (alert.priority, alert.source) == ("urgent", "crisis")
    mail = db.session.scalars(select(CapturedMail)).one()
    assert mail.recipient == case.tenant.staff.email
    for text in (mail.text_body, mail.html_body):
        assert f"/personal/uppfoljning/{alert.id}" in text
        assert "hemlig@example.se" not in text and "Jag vill inte mer" not in text


def test_crisis_text_follows_the_relatives_language(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    case.relative.language = "en"
    db.session.commit()
    instance = checkin_opened_now(case.enrolment)

    body = post_answers(client, instance, {"kansla": "kris"}, relative_token(case.relative))

    assert body.get_json()["crisis"] == "Is someone in danger right now? Call 112."


def test_skipping_every_question_changes_nothing(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    instance = checkin_opened_now(case.enrolment)

    body = client.post(
        f"/api/v1/me/checkins/{instance.id}", json={}, headers=relative_token(case.relative)
    ).get_json()

    assert body["changes"] == [] and body["checkin"]["answers"] == {}
    assert body["checkin"]["answered_at"] is not None


def test_answer_errors_say_what_is_wrong(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    instance = checkin_opened_now(case.enrolment)
    headers = relative_token(case.relative)

    wrong_scale = post_answers(client, instance, {"ork": 7}, headers)
    unknown = post_answers(client, instance, {"finns-inte": "yes"}, headers)
    not_an_object = post_answers(client, instance, ["ork"], headers)

    assert wrong_scale.status_code == 400
    assert wrong_scale.get_json() == {
        "error": "answers_invalid",
        "message": "Välj ett värde från 1 till 5.",
        "field": "ork",
    }
    assert unknown.get_json()["field"] == "finns-inte"
    assert not_an_object.get_json()["error"] == "answers_invalid"
    db.session.refresh(instance)
    assert instance.is_open


def test_a_checkin_is_answered_once(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    instance = checkin_opened_now(case.enrolment)
    headers = relative_token(case.relative)
    post_answers(client, instance, {"ork": 1}, headers)

    again = post_answers(client, instance, {"ork": 1}, headers)

    assert again.status_code == 409 and again.get_json()["error"] == "checkin_answered"
    assert len(db.session.scalars(select(Alert)).all()) == 1


def test_an_expired_checkin_cannot_be_answered(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    old = checkin_opened_now(case.enrolment)
    checkin_opened_now(case.enrolment)  # a newer occurrence opens

    response = post_answers(client, old, {"ork": 3}, relative_token(case.relative))

    assert response.status_code == 409 and response.get_json()["error"] == "checkin_expired"


def test_someone_elses_checkin_is_not_found(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    mine = enrolled_now()
    instance = checkin_opened_now(mine.enrolment)
    other = enrolled_now(tenant=mine.tenant, email="annan@example.se")

    response = post_answers(client, instance, {"ork": 1}, relative_token(other.relative))

    assert response.status_code == 404 and response.get_json()["error"] == "checkin_not_found"
    assert post_answers(client, instance, {"ork": 1}, {}).status_code == 401
    db.session.refresh(instance)
    assert instance.is_open


def test_openapi_describes_the_relatives_actions(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    answer = paths["/me/checkins/{checkin_id}"]["post"]
    assert set(answer["responses"]) >= {"200", "400", "404", "409"}
    assert "post" in paths["/me/needs"]
    assert "post" in paths["/me/contact-request"]
