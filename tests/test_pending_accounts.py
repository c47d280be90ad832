"""A card proves a card, not an address: redeeming one never opens someone else's account.

The victim has an account (an enrolment in one organisation, answers, consents);
the attacker holds any unused card, perhaps one they issued themselves in another
organisation, and types the victim's address. They may see the new enrolment at
once, but nothing of the victim's account, and no consent of it changes, until a
link mailed to the address is used. Web and API alike; the API answers the same
whatever the address's history.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from guide.extensions import db
from guide.models import Consent, ConsentPurpose, Enrolment, Relative
from guide.models.base import utcnow
from guide.services.login import create_login_token
from tests.factories import ALL_CONSENTS, enrol, issue_cards, make_tenant, sent_mail

VICTIM = "victim@example.se"
NO_CONTACT = {**ALL_CONSENTS, ConsentPurpose.CONTACT: False}


@pytest.fixture
def victim(app: Flask) -> Enrolment:
    """A relative of `kommunen` whose address is proved, who said no to being contacted."""
    tenant = make_tenant()
    enrolment = enrol(issue_cards(tenant.unit)[0], VICTIM, consents=NO_CONTACT)
    enrolment.relative.email_proved_at = utcnow()
    db.session.commit()
    return enrolment


@pytest.fixture
def attackers_card(app: Flask):  # type: ignore[no-untyped-def]
    """An unused card of another organisation: its staff could issue one themselves."""
    return issue_cards(make_tenant("grannkommunen").unit)[0]


def redeem_on_web(client: FlaskClient, code: str, email: str, contact: bool = True) -> Any:
    client.post("/aktivera", data={"code": code})
    client.post("/aktivera/fragor", data={"skip": "1"})
    data = {"email": email, "consent_service": "yes"}
    if contact:
        data["consent_contact"] = "yes"
    return client.post("/aktivera/samtycke", data=data)


def redeem_on_api(client: FlaskClient, code: str, email: str) -> Any:
    return client.post(
        "/api/v1/activations",
        json={"code": code, "email": email, "consents": {"service": True, "contact": True}},
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def contact_consents(relative_id: int) -> list[bool]:
    return list(
        db.session.scalars(
            select(Consent.granted)
            .where(Consent.relative_id == relative_id, Consent.purpose == ConsentPurpose.CONTACT)
            .order_by(Consent.id)
        )
    )


def attach_link(recipient: str = VICTIM) -> str:
    [mail] = [m for m in sent_mail(recipient) if "Ett kort har använts" in m.subject]
    link = next(line for line in mail.text_body.splitlines() if "/logga-in/" in line).strip()
    return link.replace("http://lots.test", "")


# -- the web ------------------------------------------------------------------------


def test_a_card_with_a_known_address_shows_only_the_new_enrolment_on_the_web(
    client: FlaskClient, victim: Enrolment, attackers_card
) -> None:  # type: ignore[no-untyped-def]
    landed = redeem_on_web(client, attackers_card.code, VICTIM)

    assert landed.headers["Location"] == "/min-guide/"
    page = client.get("/min-guide/").get_data(as_text=True)
    new = db.session.scalar(select(Enrolment).where(Enrolment.card_id == attackers_card.id))
    assert f"/min-guide/{new.id}/valkommen" in page  # the opening module, at once
    assert f"/min-guide/{victim.id}/" not in page
    assert client.get(f"/min-guide/{victim.id}/valkommen").status_code == 404
    assert client.get(f"/min-guide/{new.id}/valkommen").status_code == 200
    assert new.relative_id != victim.relative_id
    assert new.relative.email is None and new.relative.claimed_email == VICTIM


def test_a_card_with_a_known_address_changes_no_consent_of_the_account(
    client: FlaskClient, victim: Enrolment, attackers_card
) -> None:  # type: ignore[no-untyped-def]
    redeem_on_web(client, attackers_card.code, VICTIM, contact=True)
    new = db.session.scalar(select(Enrolment).where(Enrolment.card_id == attackers_card.id))
    client.post(
        "/min-guide/kontakta-mig",
        data={"enrolment": str(victim.id), "phone": "0701234567", "consent_contact": "yes"},
    )

    db.session.expire_all()
    assert contact_consents(victim.relative_id) == [False]
    assert db.session.get(Relative, victim.relative_id).consent(ConsentPurpose.CONTACT) is False
    assert db.session.get(Relative, new.relative_id).consent(ConsentPurpose.CONTACT) is True


def test_the_address_gets_a_card_used_mail_and_no_welcome(
    client: FlaskClient, victim: Enrolment, attackers_card
) -> None:  # type: ignore[no-untyped-def]
    redeem_on_web(client, attackers_card.code, VICTIM)

    [mail] = sent_mail(VICTIM)
    assert mail.subject == "Ett kort har använts med din e-postadress"
    assert "Stöd för anhöriga" in mail.text_body  # the guide is not sensitive
    assert "Var det inte du?" in mail.text_body
    assert "/logga-in/" in mail.text_body and "/logga-in/" in mail.html_body


def test_the_link_in_the_card_used_mail_attaches_the_enrolment_and_ends_the_strangers_session(
    client: FlaskClient, app: Flask, victim: Enrolment, attackers_card
) -> None:  # type: ignore[no-untyped-def]
    redeem_on_web(client, attackers_card.code, VICTIM)
    path = attach_link()
    owner = app.test_client()

    confirm = owner.get(path).get_data(as_text=True)
    assert "läggs den guiden till i ditt konto" in confirm
    assert owner.post(path).headers["Location"] == "/min-guide/"

    page = owner.get("/min-guide/").get_data(as_text=True)
    new = db.session.scalar(select(Enrolment).where(Enrolment.card_id == attackers_card.id))
    assert f"/min-guide/{victim.id}/valkommen" in page
    assert f"/min-guide/{new.id}/valkommen" in page
    assert new.relative_id == victim.relative_id
    # Whoever held the card is out: the pending account is gone.
    assert client.get("/min-guide/").headers["Location"].startswith("/logga-in")


def test_consents_given_with_the_card_count_only_where_newer_than_the_accounts(
    app: Flask, victim: Enrolment, attackers_card
) -> None:  # type: ignore[no-untyped-def]
    from guide.services.enrolment import attach_pending

    redeemed = utcnow()
    pending_enrolment = enrol(attackers_card, VICTIM, now=redeemed)
    pending = pending_enrolment.relative
    account = db.session.get(Relative, victim.relative_id)
    # The owner says no to statistics after the card was used, before attaching it.
    account.consents.append(
        Consent(
            purpose=ConsentPurpose.STATISTICS,
            version="2026-11",
            granted=False,
            recorded_at=redeemed + timedelta(minutes=5),
        )
    )
    db.session.commit()

    attach_pending(db.session, pending, account, redeemed + timedelta(minutes=10))
    db.session.commit()

    assert account.consent(ConsentPurpose.CONTACT) is True  # the card's answer is newer
    assert account.consent(ConsentPurpose.STATISTICS) is False  # the owner's is newer
    assert pending.deleted_at is not None and pending.claimed_email is None


def test_a_first_redemption_session_ends_when_the_address_is_proved(
    client: FlaskClient, app: Flask
) -> None:  # type: ignore[no-untyped-def]
    """A stranger who enrolled first with someone's address loses it when the owner logs in."""
    card = issue_cards(make_tenant().unit)[0]
    redeem_on_web(client, card.code, "new@example.se")
    assert client.get("/min-guide/").status_code == 200
    [welcome] = sent_mail("new@example.se")
    link = next(line for line in welcome.text_body.splitlines() if "/logga-in/" in line).strip()

    owner = app.test_client()
    owner.post(link.replace("http://lots.test", ""))

    assert owner.get("/min-guide/").status_code == 200
    assert client.get("/min-guide/").status_code == 302


def test_the_pages_say_the_same_for_a_known_and_an_unknown_address(
    app: Flask, victim: Enrolment
) -> None:  # type: ignore[no-untyped-def]
    known, unknown = issue_cards(make_tenant("grannkommunen").unit, 2)
    pages = []
    for card, email in ((known, VICTIM), (unknown, "nobody@example.se")):
        client = app.test_client()
        redeem_on_web(client, card.code, email)
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.card_id == card.id))
        for path in ("/min-guide/", "/min-guide/kontakta-mig"):
            html = client.get(path).get_data(as_text=True).replace(email, "ADDRESS")
            html = html.replace(f"/min-guide/{enrolment.id}/", "/min-guide/N/")
            html = html.replace(f"guide-{enrolment.id}", "guide-N")
            pages.append(html.replace(f'value="{enrolment.id}"', 'value="N"'))
    assert pages[:2] == pages[2:]
    assert "Vi har skickat ett mejl till adressen du skrev" in pages[0]


# -- the API ------------------------------------------------------------------------


def test_an_api_token_from_a_card_sees_only_the_new_enrolment(
    client: FlaskClient, victim: Enrolment, attackers_card
) -> None:  # type: ignore[no-untyped-def]
    created = redeem_on_api(client, attackers_card.code, VICTIM)
    assert created.status_code == 201
    headers = bearer(created.get_json()["token"])
    new_id = created.get_json()["enrolment"]["enrolment"]

    journey = client.get("/api/v1/me/journey", headers=headers).get_json()
    assert [e["enrolment"] for e in journey["enrolments"]] == [new_id]
    own = client.get("/api/v1/me/modules/valkommen", headers=headers).get_json()
    assert own["enrolment"] == new_id
    theirs = client.get(f"/api/v1/me/modules/valkommen?enrolment={victim.id}", headers=headers)
    assert theirs.status_code == 404
    needs = client.post(
        "/api/v1/me/needs",
        json={"module": "valkommen", "needs": ["prata"], "enrolment": victim.id},
        headers=headers,
    )
    assert needs.status_code == 404
    contact = client.post(
        "/api/v1/me/contact-request",
        json={"enrolment": victim.id, "phone": "0701234567", "consent": True},
        headers=headers,
    )
    assert contact.status_code == 404
    client.post(
        "/api/v1/me/contact-request", json={"phone": "0701234567", "consent": True}, headers=headers
    )
    db.session.expire_all()
    assert contact_consents(victim.relative_id) == [False]


def test_an_api_token_from_a_card_stops_when_the_address_is_proved(
    client: FlaskClient, app: Flask
) -> None:  # type: ignore[no-untyped-def]
    card = issue_cards(make_tenant().unit)[0]
    created = redeem_on_api(client, card.code, "new@example.se")
    headers = bearer(created.get_json()["token"])
    assert client.get("/api/v1/me/journey", headers=headers).status_code == 200

    relative = db.session.scalar(select(Relative).where(Relative.email == "new@example.se"))
    login_token = create_login_token(db.session, relative, utcnow(), timedelta(minutes=30))
    db.session.commit()
    proved = client.post("/api/v1/auth/token", json={"login_token": login_token})

    assert client.get("/api/v1/me/journey", headers=headers).status_code == 401
    full = bearer(proved.get_json()["token"])
    assert client.get("/api/v1/me/journey", headers=full).status_code == 200


def test_the_card_used_link_exchanged_on_the_api_attaches_too(
    client: FlaskClient, victim: Enrolment, attackers_card
) -> None:  # type: ignore[no-untyped-def]
    created = redeem_on_api(client, attackers_card.code, VICTIM)
    stranger = bearer(created.get_json()["token"])
    login_token = attach_link().rsplit("/", 1)[1]

    owner = client.post("/api/v1/auth/token", json={"login_token": login_token}).get_json()
    journey = client.get("/api/v1/me/journey", headers=bearer(owner["token"])).get_json()

    assert len(journey["enrolments"]) == 2
    assert client.get("/api/v1/me/journey", headers=stranger).status_code == 401


def _shape(value: Any) -> Any:
    """The structure of a JSON value: keys and types, not the values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def test_the_api_answers_alike_whatever_the_addresss_history(
    client: FlaskClient, app: Flask, victim: Enrolment
) -> None:  # type: ignore[no-untyped-def]
    """Same status, same body shape, same work (statements), no mail sent inside the request."""
    known_card, unknown_card, never_proved_card = issue_cards(make_tenant("grannkommunen").unit, 3)
    enrol(issue_cards(make_tenant("tredje").unit)[0], "unproved@example.se")
    statements: list[str] = []

    def count(*args: Any) -> None:
        if threading.get_ident() == me:  # not the background sender's
            statements.append(args[2])

    me = threading.get_ident()

    answers = {}
    for label, card, email in (
        ("known", known_card, VICTIM),
        ("unknown", unknown_card, "nobody@example.se"),
        ("unproved", never_proved_card, "unproved@example.se"),
    ):
        sent_mail()  # the previous answer's mail is out before this one is measured
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = redeem_on_api(app.test_client(), card.code, email)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        answers[label] = (response.status_code, _shape(response.get_json()), len(statements))
        assert not [s for s in statements if "captured_mail" in s]  # sent after the answer

    assert answers["known"][:2] == answers["unknown"][:2] == answers["unproved"][:2]
    assert answers["known"][0] == 201
    # The same statements in the same number: the work does not depend on the address.
    assert answers["known"][2] == answers["unknown"][2] == answers["unproved"][2]
