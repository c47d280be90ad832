"""Date questions: how they are read, asked on the web and in the API, and what they move.

The profile part runs on the shipped `efterlevande` ("Ungefär när dog hen?"); the
check-in part on a copy of the test fixture whose check-in asks a date that a module
counts from.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from guide.content.model import Question, QuestionType, Text
from guide.extensions import db
from guide.models import CheckinInstance, Enrolment, Event
from guide.models.base import utcnow
from guide.services.answers import AnswerError, clean_answers, parse_date
from guide.services.journey import advance_enrolment, state_of
from guide.services.library import current_library
from scheduler.planner import plan
from tests.checkin_support import log_in_relative, relative_token
from tests.conftest import FIXTURE_CONTENT, SHIPPED_CONTENT
from tests.factories import enrol_in_account, issue_cards, make_tenant

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = date(2026, 12, 1)
DEATH = Question("dodsdatum", QuestionType.DATE, Text.of(sv="Ungefär när dog hen?"))
DUE = Question("termin", QuestionType.DATE, Text.of(sv="När?"), allow_future=True)


# --- reading a date ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "2026-02-03",
        "2026-2-3",
        "2026/02/03",
        "20260203",
        "3/2 2026",
        "3/2-2026",
        "03.02.2026",
        "3 februari 2026",
        "3 Feb. 2026",
        "den 3 feb 2026",
        "  3  februari   2026 ",
    ],
)
def test_a_date_is_read_as_people_in_sweden_write_it(written: str) -> None:
    assert parse_date(written) == date(2026, 2, 3)
    assert clean_answers([DEATH], {"dodsdatum": written}, today=TODAY) == {
        "dodsdatum": "2026-02-03"
    }


@pytest.mark.parametrize("written", ["30 februari 2026", "2026-13-01", "i våras", "3/2", "14"])
def test_something_that_is_not_a_date_is_refused_with_how_to_write_it(written: str) -> None:
    with pytest.raises(AnswerError) as raised:
        clean_answers([DEATH], {"dodsdatum": written}, today=TODAY)
    assert raised.value.field == "dodsdatum"
    assert "2026-02-03" in raised.value.message


def test_a_date_after_today_is_refused_unless_the_question_allows_it() -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    with pytest.raises(AnswerError) as raised:
        clean_answers([DEATH], {"dodsdatum": tomorrow}, today=TODAY)
    assert "efter i dag" in raised.value.message
    assert clean_answers([DEATH], {"dodsdatum": TODAY.isoformat()}, today=TODAY)
    assert clean_answers([DUE], {"termin": tomorrow}, today=TODAY) == {"termin": tomorrow}


def test_a_date_may_be_skipped_but_not_be_a_number() -> None:
    assert clean_answers([DEATH], {"dodsdatum": ""}, today=TODAY) == {}
    assert clean_answers([DEATH], {"dodsdatum": None}, today=TODAY) == {}
    with pytest.raises(AnswerError):
        clean_answers([DEATH], {"dodsdatum": 20260203}, today=TODAY)
    with pytest.raises(AnswerError):
        clean_answers([DEATH], {"dodsdatum": "1899-12-31"}, today=TODAY)


# --- the profile question of efterlevande, on the web and in the API --------------------


class TestTheDateOfTheDeath:
    @pytest.fixture
    def content_dir(self) -> Path:
        return SHIPPED_CONTENT

    def local_today(self) -> date:
        return utcnow().astimezone(STOCKHOLM).date()

    def test_the_form_asks_it_as_a_date_field_capped_at_today_and_optional(
        self, client: FlaskClient
    ) -> None:
        card = issue_cards(make_tenant().unit, guide="efterlevande")[0]
        client.post("/aktivera", data={"code": card.code})
        page = client.get("/aktivera/fragor").get_data(as_text=True)
        field = re.search(r'<input id="q-dodsdatum"[^>]*>', page)
        assert field is not None
        tag = field.group(0)
        assert 'type="date"' in tag and f'max="{self.local_today().isoformat()}"' in tag
        assert 'aria-describedby="q-dodsdatum-hint"' in tag
        assert '<label for="q-dodsdatum">Ungefär när dog hen?' in page
        assert "Frivilligt. Skriv till exempel 2026-02-03 eller 3 februari 2026." in page

    def test_forty_days_after_the_death_the_relative_starts_in_the_weeks_after(
        self, client: FlaskClient
    ) -> None:
        card = issue_cards(make_tenant().unit, guide="efterlevande")[0]
        death = self.local_today() - timedelta(days=40)
        written = f"{death.day}/{death.month} {death.year}"
        client.post("/aktivera", data={"code": card.code})
        step2 = client.post("/aktivera/fragor", data={"q-dodsdatum": written})
        assert step2.headers["Location"] == "/aktivera/samtycke"
        client.post("/aktivera/samtycke", data={"email": "a@example.se", "consent_service": "yes"})
        enrolment = db.session.scalar(select(Enrolment))
        assert enrolment is not None
        assert enrolment.profile == {"dodsdatum": death.isoformat()}
        assert enrolment.current_phase == "forsta-tiden"
        assert [r.module_id for r in enrolment.releases] == ["de-forsta-veckorna"]

    def test_a_date_ahead_is_shown_again_at_its_field_as_typed(self, client: FlaskClient) -> None:
        card = issue_cards(make_tenant().unit, guide="efterlevande")[0]
        client.post("/aktivera", data={"code": card.code})
        ahead = self.local_today() + timedelta(days=3)
        written = f"{ahead.day}.{ahead.month}.{ahead.year}"
        response = client.post("/aktivera/fragor", data={"q-dodsdatum": written})
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        tag = re.search(r'<input id="q-dodsdatum"[^>]*>', page).group(0)  # type: ignore[union-attr]
        assert 'type="text"' in tag and f'value="{written}"' in tag
        assert 'aria-describedby="q-dodsdatum-hint q-dodsdatum-error"' in tag
        assert 'aria-invalid="true"' in tag
        assert 'id="q-dodsdatum-error">Datumet ligger efter i dag.' in page

    def test_the_api_takes_the_date_and_refuses_one_ahead(self, client: FlaskClient) -> None:
        first, second = issue_cards(make_tenant().unit, 2, guide="efterlevande")
        ahead = (self.local_today() + timedelta(days=1)).isoformat()
        refused = client.post(
            "/api/v1/activations",
            json={
                "code": first.code,
                "email": "a@example.se",
                "consents": {"service": True},
                "profile": {"dodsdatum": ahead},
            },
        )
        assert refused.status_code == 400
        assert refused.get_json()["error"] == "profile_invalid"
        assert refused.get_json()["field"] == "profile-dodsdatum"
        death = (self.local_today() - timedelta(days=120)).isoformat()
        taken = client.post(
            "/api/v1/activations",
            json={
                "code": second.code,
                "email": "a@example.se",
                "consents": {"service": True},
                "profile": {"dodsdatum": death},
            },
        )
        assert taken.status_code == 201
        journey = client.get(
            "/api/v1/me/journey", headers={"Authorization": f"Bearer {taken.get_json()['token']}"}
        ).get_json()
        assert journey["enrolments"][0]["phase"]["id"] == "forsta-aret"

    def test_a_date_ahead_is_refused_in_english_for_an_english_reader(
        self, client: FlaskClient
    ) -> None:
        card = issue_cards(make_tenant().unit, guide="efterlevande")[0]
        ahead = (self.local_today() + timedelta(days=1)).isoformat()
        body = {
            "code": card.code,
            "email": "a@example.se",
            "consents": {"service": True},
            "profile": {"dodsdatum": ahead},
        }
        in_swedish = client.post("/api/v1/activations", json=body).get_json()
        in_english = client.post(
            "/api/v1/activations", json=body, headers={"Accept-Language": "en"}
        ).get_json()
        assert in_swedish["error"] == in_english["error"] == "profile_invalid"
        assert in_swedish["message"] == (
            "Datumet ligger efter i dag. Skriv dagens datum eller ett tidigare datum."
        )
        assert in_english["message"] == (
            "The date is after today. Type today's date or an earlier date."
        )

        english = {"Accept-Language": "en"}
        client.post("/aktivera", data={"code": card.code}, headers=english)
        page = client.post(
            "/aktivera/fragor", data={"q-dodsdatum": "1899-12-31"}, headers=english
        ).get_data(as_text=True)
        assert 'id="q-dodsdatum-error">Type a date after the year 1900.' in page

    def enrol_with_death(self, days_ago: int) -> Enrolment:
        card = issue_cards(make_tenant().unit, guide="efterlevande")[0]
        death = self.local_today() - timedelta(days=days_ago)
        return enrol_in_account(card, now=utcnow(), profile={"dodsdatum": death.isoformat()})

    def test_a_corrected_date_moves_the_journey_and_releases_nothing_twice(
        self, client: FlaskClient
    ) -> None:
        enrolment = self.enrol_with_death(days_ago=3)
        assert enrolment.current_phase == "akut"
        before = {r.module_id for r in enrolment.releases}
        assert "de-forsta-dagarna" in before
        log_in_relative(client, enrolment.relative)
        assert "Ändra dina svar" in client.get("/min-guide/").get_data(as_text=True)
        page = client.get(f"/min-guide/{enrolment.id}/dina-svar").get_data(as_text=True)
        death = self.local_today() - timedelta(days=3)
        assert f'value="{death.isoformat()}"' in page
        corrected = self.local_today() - timedelta(days=40)
        response = client.post(
            f"/min-guide/{enrolment.id}/dina-svar",
            data={"q-dodsdatum": corrected.isoformat(), "q-relation": "partner"},
        )
        assert response.headers["Location"] == "/min-guide/"
        db.session.refresh(enrolment)
        assert enrolment.profile == {"dodsdatum": corrected.isoformat(), "relation": "partner"}
        assert enrolment.current_phase == "forsta-tiden"
        released = [r.module_id for r in enrolment.releases]
        assert len(released) == len(set(released))
        assert set(released) - before == {"de-forsta-veckorna"}  # the opening text, no backlog
        kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.id))]
        assert "profile_changed" in kinds
        # Everything still to come counts from the corrected date.
        decided = plan(current_library().guide("efterlevande"), state_of(enrolment), utcnow())
        assert decided.next_due_at is not None
        assert decided.next_due_at.astimezone(STOCKHOLM).date() > self.local_today()

    def test_the_api_changes_the_date_and_refuses_one_ahead_at_its_field(
        self, client: FlaskClient
    ) -> None:
        enrolment = self.enrol_with_death(days_ago=3)
        headers = relative_token(enrolment.relative)
        path = f"/api/v1/me/enrolments/{enrolment.id}/profile"
        ahead = (self.local_today() + timedelta(days=2)).isoformat()
        refused = client.put(path, json={"profile": {"dodsdatum": ahead}}, headers=headers)
        assert refused.status_code == 400
        assert refused.get_json()["field"] == "dodsdatum"
        corrected = (self.local_today() - timedelta(days=120)).isoformat()
        taken = client.put(path, json={"profile": {"dodsdatum": corrected}}, headers=headers)
        assert taken.status_code == 200
        body = taken.get_json()
        assert body["changed"] == ["dodsdatum"] and body["profile"] == {"dodsdatum": corrected}
        assert body["journey"]["phase"]["id"] == "forsta-aret"
        again = client.put(path, json={"profile": {"dodsdatum": corrected}}, headers=headers)
        assert again.get_json()["changed"] == []


# --- a date asked in a check-in, which a module counts from -----------------------------


class TestADateInACheckin:
    @pytest.fixture
    def content_dir(self, tmp_path: Path) -> Path:
        target = tmp_path / "content"
        shutil.copytree(FIXTURE_CONTENT, target)
        guide = target / "stod" / "guide.yaml"
        text = guide.read_text(encoding="utf-8")
        text = text.replace(
            "    questions:\n",
            "    questions:\n      - id: flytt\n        type: date\n"
            "        text: {sv: När flyttade hen till boendet?}\n",
            1,
        )
        guide.write_text(text, encoding="utf-8")
        module = target / "stod" / "modules" / "avlosning.md"
        module.write_text(
            module.read_text(encoding="utf-8")
            .replace("release: {after: 7d}", "release: {after: 7d, from: flytt}")
            .replace("when: {bor-ihop: yes}\n", ""),
            encoding="utf-8",
        )
        return target

    def answer_with_no_date(
        self, client: FlaskClient, enrolment: Enrolment, instance: CheckinInstance
    ) -> TestResponse:
        """Answer the check-in's date question over the API with a day that does not exist."""
        return client.post(
            f"/api/v1/me/checkins/{instance.id}",
            json={"answers": {"flytt": "31 april 2026"}},
            headers=relative_token(enrolment.relative),
        )

    def open_checkin(self) -> tuple[Enrolment, CheckinInstance]:
        card = issue_cards(make_tenant().unit)[0]
        now = utcnow()
        enrolment = enrol_in_account(card, now=now)
        guide = current_library().guide("stod")
        # The check-in opens at the preferred hour (09:00) of the third local day: four
        # days on is past it whatever the hour now, also between midnight and nine.
        advance_enrolment(db.session, guide, enrolment, now + timedelta(days=4))
        db.session.commit()
        instance = db.session.scalar(select(CheckinInstance))
        assert instance is not None
        return enrolment, instance

    def test_the_answer_is_stored_and_the_module_moves_to_its_days(
        self, app: Flask, client: FlaskClient
    ) -> None:
        enrolment, instance = self.open_checkin()
        log_in_relative(client, enrolment.relative)
        moved = utcnow().astimezone(STOCKHOLM).date() - timedelta(days=2)
        page = client.get(f"/min-guide/{enrolment.id}/fragor/{instance.id}").get_data(as_text=True)
        assert '<input id="q-flytt"' in page
        response = client.post(
            f"/min-guide/{enrolment.id}/fragor/{instance.id}",
            data={"q-flytt": f"{moved.day} {MONTHS[moved.month]} {moved.year}"},
        )
        assert response.status_code == 302
        db.session.refresh(enrolment)
        assert enrolment.answers["flytt"] == moved.isoformat()
        decided = plan(current_library().guide("stod"), state_of(enrolment), utcnow())
        due = (moved + timedelta(days=7)).isoformat()
        assert decided.next_module_at is not None
        assert decided.next_module_at.astimezone(STOCKHOLM).isoformat()[:16] == f"{due}T09:00"

    def test_the_api_refuses_a_date_that_is_not_one_at_its_field(
        self, app: Flask, client: FlaskClient
    ) -> None:
        response = self.answer_with_no_date(client, *self.open_checkin())
        assert response.status_code == 400
        assert response.get_json()["field"] == "flytt"

    def test_a_date_that_is_not_one_is_refused_in_english_for_a_relative_who_chose_english(
        self, app: Flask, client: FlaskClient
    ) -> None:
        enrolment, instance = self.open_checkin()
        enrolment.relative.language = "en"
        db.session.commit()
        response = self.answer_with_no_date(client, enrolment, instance)
        assert response.status_code == 400
        assert response.get_json()["error"] == "answers_invalid"
        assert response.get_json()["field"] == "flytt"
        assert response.get_json()["message"] == (
            "Type the date as year-month-day, for example 2026-02-03, or as 3 feb 2026."
        )


MONTHS = {
    1: "januari",
    2: "februari",
    3: "mars",
    4: "april",
    5: "maj",
    6: "juni",
    7: "juli",
    8: "augusti",
    9: "september",
    10: "oktober",
    11: "november",
    12: "december",
}
