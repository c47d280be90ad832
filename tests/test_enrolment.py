"""Redeeming a card: the three steps on the web, the API, every failure, races and limits."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from guide.extensions import db
from guide.models import Card, Consent, Enrolment, Relative, Release
from guide.models.base import utcnow
from tests.factories import enrol, enrol_in_account, issue_cards, make_tenant, sent_mail


@pytest.fixture
def tenant(app):  # type: ignore[no-untyped-def]
    return make_tenant()


def test_relative_is_enrolled_in_three_steps_and_lands_on_min_guide(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    typed = card.code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    step1 = client.post("/aktivera", data={"code": typed})
    assert step1.headers["Location"] == "/aktivera/fragor"
    step2 = client.post("/aktivera/fragor", data={"q-relation": "partner", "q-bor-ihop": "yes"})
    assert step2.headers["Location"] == "/aktivera/samtycke"
    step3 = client.post(
        "/aktivera/samtycke",
        data={"email": "Anna@Example.se", "consent_service": "yes", "consent_contact": "yes"},
    )
    assert step3.headers["Location"] == "/min-guide/"
    page = client.get("/min-guide/").get_data(as_text=True)
    assert "Välkommen" in page  # the starting phase's opening module is already there
    assert "Nästa avsnitt väntas omkring" in page

    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.profile == {"relation": "partner", "bor-ihop": "yes"}
    assert [r.module_id for r in enrolment.releases] == ["valkommen"]
    assert db.session.get(Card, card.id).status == "activated"
    consents = {c.purpose: c.granted for c in db.session.scalars(select(Consent))}
    assert consents == {"service": True, "contact": True, "statistics": False}
    assert all(c.version for c in db.session.scalars(select(Consent)))


def test_welcome_email_carries_a_one_time_login_link(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    client.post("/aktivera", data={"code": card.code})
    client.post("/aktivera/fragor", data={"skip": "1"})
    client.post("/aktivera/samtycke", data={"email": "a@example.se", "consent_service": "yes"})
    [mail] = sent_mail()
    assert mail.recipient == "a@example.se"
    assert mail.subject == "Välkommen till din guide"
    link = next(line for line in mail.text_body.splitlines() if "/logga-in/" in line).strip()
    path = link.replace("http://lots.test", "")
    other = client.application.test_client()
    assert other.get(path).status_code == 200  # a confirmation page: scanners cannot spend it
    assert other.post(path).headers["Location"] == "/min-guide/"
    again = client.application.test_client().post(path)
    assert again.status_code == 400
    assert "redan använts" in again.get_data(as_text=True)


def test_profile_questions_can_all_be_skipped(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    client.post("/aktivera", data={"code": card.code})
    client.post("/aktivera/fragor", data={"skip": "1"})
    client.post("/aktivera/samtycke", data={"email": "a@example.se", "consent_service": "yes"})
    assert db.session.scalar(select(Enrolment)).profile == {}


def test_service_consent_is_required(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    client.post("/aktivera", data={"code": card.code})
    response = client.post("/aktivera/samtycke", data={"email": "a@example.se"})
    assert response.status_code == 400
    assert "behöver du godkänna" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 0
    assert db.session.get(Card, card.id).status == "new"


def _api_redeem(client, code: str, email: str = "a@example.se"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/activations", json={"code": code, "email": email, "consents": {"service": True}}
    )


def test_mistyped_code_is_caught_before_any_lookup(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    wrong = card.code[:-1] + ("A" if card.code[-1] != "A" else "B")
    response = _api_redeem(client, wrong)
    assert response.status_code == 400
    assert response.get_json()["error"] == "code_mistyped"
    web = client.post("/aktivera", data={"code": wrong})
    assert "verkar ha ett skrivfel" in web.get_data(as_text=True)


def test_unknown_used_revoked_and_expired_codes_each_say_why(client, tenant) -> None:  # type: ignore[no-untyped-def]
    from activation_codes.codes import generate_code, prefix_for

    used, revoked, expired = issue_cards(tenant.unit, 3)
    enrol(used)
    revoked.status = "revoked"
    expired.expires_on = date.today() - timedelta(days=2)
    db.session.commit()
    cases = {
        generate_code(prefix_for("stod")): (404, "code_unknown", "Vi hittar ingen kod"),
        used.code: (409, "code_used", "har redan använts"),
        revoked.code: (410, "code_revoked", "gäller inte längre"),
        expired.code: (410, "code_expired", "har slutat gälla"),
    }
    for code, (status, error, sentence) in cases.items():
        response = _api_redeem(client, code)
        assert (response.status_code, response.get_json()["error"]) == (status, error)
        assert sentence in response.get_json()["message"]
        page = client.post("/aktivera", data={"code": code}).get_data(as_text=True)
        assert sentence in page


def test_api_activation_enrols_and_returns_a_token(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    response = client.post(
        "/api/v1/activations",
        json={
            "code": card.code,
            "email": "a@example.se",
            "consents": {"service": True, "contact": False},
            "profile": {"relation": "barn"},
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["enrolment"]["released"][0]["id"] == "valkommen"
    journey = client.get("/api/v1/me/journey", headers={"Authorization": f"Bearer {body['token']}"})
    assert journey.get_json()["enrolments"][0]["phase"]["id"] == "start"


def test_api_rejects_an_answer_the_question_does_not_have(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    response = client.post(
        "/api/v1/activations",
        json={
            "code": card.code,
            "email": "a@example.se",
            "consents": {"service": True},
            "profile": {"relation": "granne"},
        },
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "profile_invalid"


def test_the_same_email_with_a_second_card_gets_a_second_enrolment(tenant) -> None:  # type: ignore[no-untyped-def]
    first, second = issue_cards(tenant.unit, 2)
    enrol(first, "a@example.se")
    enrol_in_account(second, "A@example.se ")
    assert (
        db.session.scalar(
            select(func.count()).select_from(Relative).where(Relative.deleted_at.is_(None))
        )
        == 1
    )
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 2


def test_card_may_start_in_a_later_phase_without_the_backlog(tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit, phase="sedan")[0]
    enrolment = enrol(card)
    assert enrolment.current_phase == "sedan"
    assert [r.module_id for r in enrolment.releases] == ["sedan"]


def test_repeated_failures_are_rate_limited(client, tenant) -> None:  # type: ignore[no-untyped-def]
    statuses = [
        client.post("/aktivera", data={"code": "STO-0000-0000-0000"}).status_code for _ in range(11)
    ]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    api = _api_redeem(client, "STO-0000-0000-0000")
    assert api.status_code == 429
    assert api.get_json()["error"] == "too_many_requests"


def test_right_codes_are_not_slowed_down_by_the_limit(client, tenant) -> None:  # type: ignore[no-untyped-def]
    cards = issue_cards(tenant.unit, 12)
    statuses = [client.post("/aktivera", data={"code": c.code}).status_code for c in cards]
    assert set(statuses) == {302}


def test_a_card_redeems_exactly_once_when_requests_race(app, tenant, backend) -> None:  # type: ignore[no-untyped-def]
    """Eight threads, each with its own connection, redeem the same card at once."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race is proven on PostgreSQL")
    card = issue_cards(tenant.unit)[0]
    code = card.code
    results: list[str] = []
    barrier = threading.Barrier(8)

    def redeem(n: int) -> None:
        with app.app_context():
            from guide.services.enrolment import RedemptionError

            barrier.wait()
            try:
                enrol(db.session.scalar(select(Card).where(Card.code == code)), f"r{n}@example.se")
                results.append("ok")
            except RedemptionError as error:
                results.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 1
    assert set(results) - {"ok"} == {"code_used"}
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 1
    assert db.session.scalar(select(func.count()).select_from(Release)) == 1


def test_login_link_api_always_answers_202(client, tenant) -> None:  # type: ignore[no-untyped-def]
    enrol(issue_cards(tenant.unit)[0], "known@example.se")
    known = client.post("/api/v1/auth/login-link", json={"email": "known@example.se"})
    unknown = client.post("/api/v1/auth/login-link", json={"email": "nobody@example.se"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert "Din inloggningslänk" in [m.subject for m in sent_mail("known@example.se")]
    assert not sent_mail("nobody@example.se")


def test_login_link_token_exchanges_once_for_a_bearer_token(client, tenant) -> None:  # type: ignore[no-untyped-def]
    from guide.services.login import create_login_token

    relative = enrol(issue_cards(tenant.unit)[0]).relative
    token = create_login_token(db.session, relative, utcnow(), timedelta(minutes=30))
    db.session.commit()
    first = client.post("/api/v1/auth/token", json={"login_token": token})
    assert first.status_code == 200
    bearer = first.get_json()["token"]
    assert (
        client.get("/api/v1/me/journey", headers={"Authorization": f"Bearer {bearer}"}).status_code
        == 200
    )
    second = client.post("/api/v1/auth/token", json={"login_token": token})
    assert second.get_json()["error"] == "login_link_used"


def test_login_links_expire_after_thirty_minutes(app, tenant) -> None:  # type: ignore[no-untyped-def]
    from guide.services.login import (
        LoginLinkError,
        create_login_token,
        login_link_lifetime,
        use_login_token,
    )

    relative = enrol(issue_cards(tenant.unit)[0]).relative
    now = utcnow()
    token = create_login_token(db.session, relative, now, login_link_lifetime())
    with pytest.raises(LoginLinkError) as raised:
        use_login_token(db.session, token, now + timedelta(minutes=30, seconds=1))
    assert raised.value.code == "login_link_expired"
    assert use_login_token(db.session, token, now + timedelta(minutes=29)).id == relative.id


def test_me_endpoints_need_a_token(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/me/journey")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_module_page_marks_it_read_and_shows_the_released_version(client, tenant) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(tenant.unit)[0]
    client.post("/aktivera", data={"code": card.code})
    client.post("/aktivera/samtycke", data={"email": "a@example.se", "consent_service": "yes"})
    enrolment = db.session.scalar(select(Enrolment))
    assert "Ny</span>" in client.get("/min-guide/").get_data(as_text=True)
    page = client.get(f"/min-guide/{enrolment.id}/valkommen")
    assert page.status_code == 200
    assert "Hej och välkommen" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Release)).read_at is not None
    assert (
        client.get(f"/min-guide/{enrolment.id}/extra").status_code == 404
    )  # on demand, not released


def test_a_relative_cannot_open_someone_elses_enrolment(client, tenant) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = issue_cards(tenant.unit, 2)
    client.post("/aktivera", data={"code": mine.code})
    client.post("/aktivera/samtycke", data={"email": "a@example.se", "consent_service": "yes"})
    other = enrol(theirs, "b@example.se")
    assert client.get(f"/min-guide/{other.id}/valkommen").status_code == 404
