"""Check-ins in the database: when they open, the answer form, and rules taking effect at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guide.extensions import db
from guide.models import Alert, CapturedMail, CheckinInstance, OutboxMessage, Release
from guide.services.checkins import CheckinError, answer_checkin, checkin_outcome
from guide.services.library import current_library
from tests.checkin_support import (
    FIRST_CHECKIN,
    KONTROLL_CONTENT,
    NEXT_CHECKIN,
    NO_CONTACT,
    advance,
    answer_url,
    checkin_opened_now,
    enrolled,
    enrolled_now,
    event_kinds,
    last_event_id,
    log_in_relative,
    open_checkin,
)
from tests.conftest import at

ANSWERED = FIRST_CHECKIN + timedelta(hours=3)
# What the crisis test's relative gave: none of it may reach the staff e-mail.
PRIVATE = ("hemlig.anhorig", "070-123", "Ring mig", "Allt är mörkt", "kris", "orkar inte leva")


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def answer(instance: CheckinInstance, answers: dict[str, object], now=ANSWERED):  # type: ignore[no-untyped-def]
    outcome = answer_checkin(db.session, current_library(), instance, answers, now)
    db.session.commit()
    return outcome


def released(enrolment) -> set[str]:  # type: ignore[no-untyped-def]
    db.session.refresh(enrolment)
    return {release.module_id for release in enrolment.releases}


# -- opening --------------------------------------------------------------------------


def test_checkin_opens_on_its_local_day_at_the_preferred_hour(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    advance(enrolment, at("2026-03-03 09:00"))  # the scheduler's pass for forsta-veckan
    advance(enrolment, FIRST_CHECKIN - timedelta(minutes=1))
    assert not db.session.scalars(
        select(CheckinInstance).where(CheckinInstance.checkin_id == "hur-gar-det")
    ).all()

    instance = open_checkin(enrolment, FIRST_CHECKIN)

    assert instance.due_at == FIRST_CHECKIN and instance.opened_at == FIRST_CHECKIN
    assert enrolment.next_due_at == at("2026-03-09 09:00")  # vardag, 7 days into the phase


def test_phase_bound_checkin_opens_the_day_after_its_phase_started(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    instance = open_checkin(enrolment, at("2026-03-03 09:00"), "forsta-veckan")
    assert instance.due_at == at("2026-03-03 09:00")


def test_an_open_checkin_invites_from_min_guide(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    instance = open_checkin(enrolment)
    log_in_relative(client, enrolment.relative)

    html = client.get("/min-guide/").get_data(as_text=True)

    assert "Hur går det?" in html
    assert f'href="{answer_url(instance)}"' in html
    assert "Svara på frågorna" in html


def test_a_newer_occurrence_expires_the_unanswered_one_quietly(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    first = open_checkin(enrolment, FIRST_CHECKIN)
    second = open_checkin(enrolment, NEXT_CHECKIN)
    log_in_relative(client, enrolment.relative)

    db.session.refresh(first)
    assert first.expired_at == NEXT_CHECKIN and second.is_open
    html = client.get("/min-guide/").get_data(as_text=True)
    assert answer_url(second) in html and answer_url(first) not in html
    # The old form says where the new questions are instead of taking answers.
    response = client.post(answer_url(first), data={"q-ork": "3"}, follow_redirects=True)
    assert "ersatts av nyare frågor" in response.get_data(as_text=True)
    with pytest.raises(CheckinError) as refused:
        answer(first, {"ork": 3}, NEXT_CHECKIN)
    assert refused.value.code == "checkin_expired"
    # Quietly: the only mail is the notice about the new occurrence.
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert "checkin_expired" not in kinds


def test_repeated_checkins_are_answered_one_occurrence_at_a_time(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    first = open_checkin(enrolment, FIRST_CHECKIN)
    answer(first, {"ork": 1})
    second = open_checkin(enrolment, NEXT_CHECKIN)
    answer(second, {"ork": 4}, NEXT_CHECKIN + timedelta(hours=1))
    third = open_checkin(enrolment, at("2026-04-02 09:00"))
    answer(third, {}, at("2026-04-02 10:00"))  # ork skipped this time

    assert first.answers == {"ork": 1} and second.answers == {"ork": 4} and third.answers == {}
    assert enrolment.answers["ork"] == 4  # the latest answer given
    # The low-energy rule fired for the first answer only, not again on a skip.
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1


# -- the form ---------------------------------------------------------------------------


def test_answer_form_asks_every_question_type_accessibly(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    instance = checkin_opened_now(enrolment)
    log_in_relative(client, enrolment.relative)

    html = client.get(answer_url(instance)).get_data(as_text=True)

    for name in ("q-ork", "q-kansla", "q-stod", "q-flyttat"):
        assert f'<fieldset id="{name}" aria-describedby="{name}-hint">' in html
    assert "<legend>Hur mycket ork har du just nu?" in html
    assert html.count('type="radio" name="q-ork"') == 5
    assert 'type="radio" name="q-kansla" value="kris"' in html
    assert html.count('type="checkbox" name="q-stod"') == 3
    assert 'name="q-flyttat" value="yes"' in html and 'name="q-flyttat" value="no"' in html
    assert '<label for="q-ovrigt">Vill du berätta något mer?' in html
    assert '<textarea id="q-ovrigt" name="q-ovrigt"' in html
    assert html.count("Frivilligt") >= 5
    assert '<button type="submit">Skicka svaren</button>' in html


def test_answers_of_every_type_are_stored(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    instance = checkin_opened_now(enrolment)
    log_in_relative(client, enrolment.relative)

    response = client.post(
        answer_url(instance),
        data={
            "q-ork": "3",
            "q-kansla": "orolig",
            "q-stod": ["vanner", "familj"],
            "q-flyttat": "no",
            "q-ovrigt": "  Det går ganska bra.  ",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(answer_url(instance) + "/tack")
    db.session.refresh(instance)
    expected = {
        "ork": 3,
        "kansla": "orolig",
        "stod": ["familj", "vanner"],
        "flyttat": "no",
        "ovrigt": "Det går ganska bra.",
    }
    assert instance.answers == expected and instance.answered_at is not None
    db.session.refresh(enrolment)
    assert enrolment.answers == expected


def test_every_question_can_be_skipped(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    instance = checkin_opened_now(enrolment)
    log_in_relative(client, enrolment.relative)

    response = client.post(answer_url(instance), data={}, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Tack för dina svar" in html
    assert "Dina svar är sparade" in html
    db.session.refresh(instance)
    assert instance.answered_at is not None and instance.answers == {}
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0


def test_a_wrong_answer_is_shown_at_its_question_and_keeps_the_others(  # type: ignore[no-untyped-def]
    app, client: FlaskClient
) -> None:
    enrolment = enrolled_now().enrolment
    instance = checkin_opened_now(enrolment)
    log_in_relative(client, enrolment.relative)

    response = client.post(answer_url(instance), data={"q-ork": "9", "q-kansla": "lugn"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="error-summary" role="alert"' in html and 'href="#q-ork"' in html
    assert 'aria-describedby="q-ork-hint q-ork-error" aria-invalid="true"' in html
    assert 'value="lugn" checked' in html
    db.session.refresh(instance)
    assert instance.is_open


def test_answering_twice_shows_the_first_answer_instead(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled_now().enrolment
    instance = checkin_opened_now(enrolment)
    log_in_relative(client, enrolment.relative)
    client.post(answer_url(instance), data={"q-ork": "4"})

    again = client.post(answer_url(instance), data={"q-ork": "1"})

    assert again.status_code == 302 and again.headers["Location"].endswith("/tack")
    db.session.refresh(instance)
    assert instance.answers == {"ork": 4}
    with pytest.raises(CheckinError) as refused:
        answer(instance, {"ork": 1})
    assert refused.value.code == "checkin_answered"


def test_someone_elses_checkin_is_not_found(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    mine = enrolled_now()
    instance = checkin_opened_now(mine.enrolment)
    other = enrolled_now(tenant=mine.tenant, email="annan@example.se")
    log_in_relative(client, other.relative)

    assert client.get(answer_url(instance)).status_code == 404
    other_url = f"/min-guide/{other.enrolment.id}/fragor/{instance.id}"
    assert client.get(other_url).status_code == 404
    assert client.post(answer_url(instance), data={"q-ork": "1"}).status_code == 404


# -- rules ------------------------------------------------------------------------------


def test_release_rule_releases_now_and_alerts_the_unit_that_issued_the_card(app) -> None:  # type: ignore[no-untyped-def]
    case = enrolled()
    instance = open_checkin(case.enrolment)

    outcome = answer(instance, {"ork": 1})

    release = db.session.scalar(select(Release).where(Release.module_id == "orka"))
    assert release is not None and release.reason == "rule" and release.released_at == ANSWERED
    alert = db.session.scalars(select(Alert)).one()
    assert (alert.unit_id, alert.organisation_id) == (
        case.tenant.unit.id,
        case.tenant.organisation.id,
    )
    assert (alert.priority, alert.source, alert.reason) == ("normal", "rule", "Låg ork")
    assert alert.created_at == ANSWERED
    assert outcome.released == ("orka",)
    assert [c.kind for c in outcome.changes] == ["release", "alert"]
    assert outcome.crisis_text is None


def test_set_phase_rule_starts_the_phase_now_with_its_opening_module_and_checkin(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    instance = open_checkin(enrolment)  # forsta-veckan opened on day 1 is still open too
    week = db.session.scalars(
        select(CheckinInstance).where(CheckinInstance.checkin_id == "forsta-veckan")
    ).one()

    outcome = answer(instance, {"flyttat": "yes"})

    visit = enrolment.phase_visits[-1]
    assert (visit.phase, visit.started_at, visit.reason) == ("boende", ANSWERED, "rule")
    assert "boende" in released(enrolment)
    assert [(c.kind, c.id) for c in outcome.changes] == [
        ("phase", "boende"),
        ("release", "boende"),
        ("checkin", "i-boendet"),
    ]
    assert outcome.phase == "boende"
    boende_checkin = db.session.scalars(
        select(CheckinInstance).where(CheckinInstance.checkin_id == "i-boendet")
    ).one()
    assert boende_checkin.opened_at == ANSWERED and boende_checkin.is_open
    # The phase left takes its own check-in with it.
    db.session.refresh(week)
    assert week.expired_at == ANSWERED
    # The schedule goes on from the change: the next hur-gar-det, not the old phase's end.
    assert enrolment.next_due_at == NEXT_CHECKIN


def test_mute_rule_stops_a_module_still_to_come(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    instance = open_checkin(enrolment)

    outcome = answer(instance, {"stod": ["ingen"]})
    advance(enrolment, at("2026-03-12 09:00"))  # vardag was due on 9 March

    assert set(enrolment.muted) == {"orka", "vardag"}
    assert [(c.kind, c.id) for c in outcome.changes] == [("mute", "orka"), ("mute", "vardag")]
    assert "vardag" not in released(enrolment)


def test_rules_fire_in_order_so_an_earlier_mute_wins_over_a_later_release(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    instance = open_checkin(enrolment)

    outcome = answer(instance, {"stod": ["ingen"], "ork": 1})

    assert "orka" not in released(enrolment)
    assert [c.kind for c in outcome.changes] == ["mute", "mute", "alert"]


def test_every_effect_is_an_event_on_the_enrolment(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    instance = open_checkin(enrolment)
    before = last_event_id(enrolment)

    answer(instance, {"stod": ["ingen"], "ork": 2, "kansla": "kris", "flyttat": "yes"})

    assert event_kinds(enrolment, before) == [
        "checkin_answered",
        "muted",  # orka
        "muted",  # vardag
        "alert_raised",  # low energy
        "crisis_shown",
        "alert_raised",  # the crisis makes the same alert urgent
        "phase_changed",
        "checkin_expired",  # forsta-veckan belonged to the phase left
        "released",  # boende's opening module
        "checkin_opened",  # i-boendet
    ]
    alert = db.session.scalars(select(Alert)).one()
    assert alert.priority == "urgent" and alert.source == "crisis"


def test_answer_outcome_can_be_read_back_later(app) -> None:  # type: ignore[no-untyped-def]
    enrolment = enrolled().enrolment
    instance = open_checkin(enrolment)
    given = answer(instance, {"ork": 1, "flyttat": "yes"})
    advance(enrolment, at("2026-04-10 09:00"))  # later events must not join the outcome

    again = checkin_outcome(db.session, current_library(), instance)

    assert again.changes == given.changes
    assert [c.kind for c in again.changes] == ["release", "alert", "phase", "release", "checkin"]


# -- crisis, end to end -----------------------------------------------------------------


def test_crisis_answer_shows_crisis_text_raises_urgent_alert_and_mails_staff_without_personal_data(  # type: ignore[no-untyped-def]
    app, client: FlaskClient
) -> None:
    case = enrolled_now(email="hemlig.anhorig@example.se")
    # The relative asked to be called earlier, so staff hold a phone number for them.
    log_in_relative(client, case.relative)
    client.post("/min-guide/kontakta-mig", data={"phone": "070-123 45 67", "message": "Ring mig"})
    instance = checkin_opened_now(case.enrolment)

    response = client.post(
        answer_url(instance),
        data={"q-kansla": "kris", "q-ork": "1", "q-ovrigt": "Allt är mörkt"},
        follow_redirects=True,
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    crisis = html.index('<section class="crisis" role="alert"')
    assert 'Självmordslinjen: <a href="tel:90101">90101</a>' in html[crisis:]  # a tel: link
    assert crisis < html.index("Tack för dina svar</h2>")
    alert = db.session.scalars(select(Alert)).one()
    assert alert.priority == "urgent" and alert.unit_id == case.tenant.unit.id
    mails = db.session.scalars(
        select(CapturedMail).where(CapturedMail.subject.contains("Brådskande"))
    ).all()
    assert [m.recipient for m in mails] == [case.tenant.staff.email]
    mail = mails[0]
    assert f"/personal/uppfoljning/{alert.id}" in mail.text_body
    for body in (mail.text_body, mail.html_body, mail.subject):
        for private in PRIVATE:
            assert private not in body, private


def test_alert_without_contact_consent_offers_to_ask_for_contact(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now(consents=NO_CONTACT)
    instance = checkin_opened_now(case.enrolment)
    log_in_relative(client, case.relative)

    html = client.post(answer_url(instance), data={"q-ork": "1"}, follow_redirects=True).get_data(
        as_text=True
    )

    assert "När orken tar slut" in html
    assert 'href="/min-guide/kontakta-mig"' in html


def test_confirmation_lists_new_modules_and_the_new_phase(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    case = enrolled_now()
    instance = checkin_opened_now(case.enrolment)
    log_in_relative(client, case.relative)

    html = client.post(
        answer_url(instance), data={"q-flyttat": "yes"}, follow_redirects=True
    ).get_data(as_text=True)

    assert "gått vidare till: Särskilt boende" in html
    assert f'href="/min-guide/{case.enrolment.id}/boende">Flytten till boendet</a>' in html
    assert "Det finns nya frågor till dig" in html
