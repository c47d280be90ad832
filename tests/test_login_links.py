"""Login links: the same answer and the same work for any address, sent after the answer, limited."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from guide.extensions import db
from guide.models import CapturedMail, LoginLinkRequest, OutboxMessage
from guide.models.base import utcnow
from guide.services.login import request_login_link
from tests.factories import enrol, issue_cards, make_tenant, sent_mail

KNOWN = "known@example.se"


@pytest.fixture
def known(app: Flask) -> None:
    enrol(issue_cards(make_tenant().unit)[0], KNOWN)
    sent_mail()  # the welcome is out of the way


def login_mails() -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "login")
    )


def test_the_link_is_sent_after_the_answer_not_inside_it(client: FlaskClient, known: None) -> None:
    captured_before = len(sent_mail())

    response = client.post("/logga-in", data={"email": KNOWN})

    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(CapturedMail)) == captured_before
    assert db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.kind == "login")) == (
        "pending"
    )
    assert [m.subject for m in sent_mail(KNOWN)][captured_before:] == ["Din inloggningslänk"]
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.kind == "login")) == (
        "sent"
    )


@pytest.mark.parametrize("route", ["/logga-in", "/api/v1/auth/login-link"])
def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_work(
    app: Flask, known: None, route: str
) -> None:
    statements: list[str] = []
    me = threading.get_ident()

    def count(*args: Any) -> None:
        if threading.get_ident() == me:
            verb = str(args[2]).split()[0]  # SELECT, INSERT, SAVEPOINT ...
            # Ending the savepoint: kept for a known address, taken back for an unknown.
            statements.append("END SAVEPOINT" if verb in ("RELEASE", "ROLLBACK") else verb)

    answers = {}
    for label, email in (("known", KNOWN), ("unknown", "nobody@example.se")):
        client = app.test_client()
        sent_mail()
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            if route == "/logga-in":
                response = client.post(route, data={"email": email})
            else:
                response = client.post(route, json={"email": email})
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        answers[label] = (response.status_code, response.get_data(as_text=True), list(statements))

    assert answers["known"] == answers["unknown"]
    assert [m.subject for m in sent_mail(KNOWN)][-1] == "Din inloggningslänk"
    assert not sent_mail("nobody@example.se")


def test_an_address_gets_at_most_three_links_in_fifteen_minutes(app: Flask, known: None) -> None:
    now = utcnow()
    sent = [request_login_link(db.session, KNOWN, now + timedelta(minutes=i)) for i in range(5)]
    db.session.commit()
    assert [m is not None for m in sent] == [True, True, True, False, False]
    later = request_login_link(db.session, KNOWN, now + timedelta(minutes=16))
    assert later is not None


def test_an_address_gets_at_most_ten_links_a_day(app: Flask, known: None) -> None:
    start = utcnow()
    moments = [start + timedelta(minutes=20 * i) for i in range(12)]  # never 3 in 15 minutes
    sent = [request_login_link(db.session, KNOWN, moment) for moment in moments]
    db.session.commit()
    assert sum(m is not None for m in sent) == 10
    assert request_login_link(db.session, KNOWN, start + timedelta(days=1, minutes=1)) is not None


def test_the_limit_is_silent_to_the_caller(client: FlaskClient, known: None) -> None:
    answers = [client.post("/api/v1/auth/login-link", json={"email": KNOWN}) for _ in range(5)]
    assert {a.status_code for a in answers} == {202}
    assert len({a.get_data() for a in answers}) == 1
    assert login_mails() == 3


def test_requests_are_counted_without_keeping_the_address(app: Flask, known: None) -> None:
    request_login_link(db.session, KNOWN, utcnow())
    request_login_link(db.session, "nobody@example.se", utcnow())
    db.session.commit()
    hashes = db.session.scalars(select(LoginLinkRequest.address_hash)).all()
    assert len(hashes) == 2 and all(len(h) == 64 and "@" not in h for h in hashes)


def test_old_requests_are_forgotten_after_a_day(app: Flask, known: None) -> None:
    start = utcnow()
    request_login_link(db.session, KNOWN, start)
    request_login_link(db.session, "other@example.se", start + timedelta(days=1, seconds=1))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(LoginLinkRequest)) == 1
