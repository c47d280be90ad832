"""Erasure (SPEC §9, issue 13 item 3): a relative with every kind of data leaves no trace.

The scan reads every text and JSON column of every table in the metadata, so a table
added later is scanned without anyone remembering to. A second relative's data stays,
which proves the scan finds what is there.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import JSON, String, Text, func, select

from guide.extensions import db
from guide.mail.delivery import deliver_due
from guide.models import (
    Alert,
    AlertNote,
    AuditLog,
    CapturedMail,
    CheckinInstance,
    Enrolment,
    Event,
    OutboxMessage,
    Relative,
    Release,
)
from guide.models.base import utcnow
from guide.services.accounts import issue_api_token
from guide.services.privacy import erase_relative
from tests.checkin_support import (
    FIRST_CHECKIN,
    KONTROLL_CONTENT,
    log_in_relative,
)
from tests.privacy_support import (
    CONTROL_EMAIL,
    CONTROL_MESSAGE,
    EMAIL,
    PHONE,
    relative_with_everything,
    text_hits,
)


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def test_the_scan_covers_every_table_with_text(app: Flask) -> None:
    """The scan is not empty-handed by construction: it reads the tables that hold text."""
    tables = {
        t.name
        for t in db.metadata.sorted_tables
        if any(isinstance(c.type, (String, Text, JSON)) for c in t.columns)
    }
    assert {"relative", "alert", "alert_note", "outbox_message", "captured_mail"} <= tables
    assert {"enrolment", "checkin_instance", "event", "login_link_request"} <= tables


def test_erasure_leaves_no_personal_data_in_any_table(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    case = relative_with_everything()
    assert len(text_hits(case.needles)) >= 8  # it was all there
    now = FIRST_CHECKIN + timedelta(days=15)

    erasure = erase_relative(db.session, case.relative, now)
    db.session.commit()

    assert erasure.relatives == 2  # the account and the pending one with the same address
    assert erasure.mails_cancelled >= 1
    assert erasure.confirmation is not None
    # Until it is sent, the confirmation is the one row that holds the address.
    assert text_hits(case.needles) == [f"outbox_message.recipient: {EMAIL}"]

    deliver_due(db.session, now)
    confirmation = db.session.get_one(OutboxMessage, erasure.confirmation.id)
    assert (confirmation.status, confirmation.recipient) == ("sent", "")
    assert text_hits(case.needles) == []
    # The other relative is untouched, and the scan finds them.
    assert len(text_hits([CONTROL_EMAIL, CONTROL_MESSAGE])) >= 3
    assert EMAIL not in caplog.text and PHONE not in caplog.text


def test_erasure_keeps_the_anonymous_facts(app: Flask) -> None:
    case = relative_with_everything()
    releases = db.session.scalar(
        select(func.count()).where(Release.enrolment_id == case.enrolment.id)
    )
    now = FIRST_CHECKIN + timedelta(days=15)
    erase_relative(db.session, case.relative, now)
    db.session.commit()
    db.session.expire_all()

    enrolment = db.session.get_one(Enrolment, case.enrolment.id)
    assert (enrolment.status, enrolment.profile, enrolment.answers) == ("erased", {}, {})
    assert enrolment.guide_id == "kontroll" and enrolment.unit_id is not None
    assert (
        db.session.scalar(select(func.count()).where(Release.enrolment_id == enrolment.id))
        == releases
    )
    answered = db.session.scalars(
        select(CheckinInstance).where(CheckinInstance.answered_at.is_not(None))
    ).all()
    assert answered and all(c.answers is None for c in answered)
    alert = db.session.get_one(Alert, case.alert.id)
    assert (alert.phone, alert.contact_email, alert.message) == (None, None, None)
    assert alert.first_contact_at is not None and alert.closed_at == now
    assert all(n.note == "" for n in db.session.scalars(select(AlertNote)))
    # Staff reads stay accountable: the audit entry survives, naming the alert only.
    audit = db.session.scalars(select(AuditLog)).all()
    assert [(a.action, a.target_id) for a in audit] == [("view_contact_details", alert.id)]
    events = db.session.scalars(select(Event).where(Event.enrolment_id == enrolment.id)).all()
    assert (events[-1].kind, events[-1].data) == ("erased", {"reason": "request"})
    assert all(e.data == {} for e in events[:-1])
    relative = db.session.get_one(Relative, case.relative.id)
    assert relative.deleted_at == now and relative.email is None and relative.consents == []


def test_erasing_twice_does_nothing_more(app: Flask) -> None:
    case = relative_with_everything()
    now = FIRST_CHECKIN + timedelta(days=15)
    erase_relative(db.session, case.relative, now)
    db.session.commit()
    again = erase_relative(db.session, case.relative, now + timedelta(hours=1))
    db.session.commit()
    assert (again.relatives, again.confirmation) == (0, None)
    assert db.session.scalar(select(func.count()).where(OutboxMessage.kind == "erased")) == 1


def test_the_confirmation_forgets_the_address_when_it_is_given_up(app: Flask) -> None:
    """A confirmation that can never be sent does not keep the address either."""
    case = relative_with_everything()
    now = FIRST_CHECKIN + timedelta(days=15)
    erasure = erase_relative(db.session, case.relative, now)
    db.session.commit()
    assert erasure.confirmation is not None
    from guide.mail.delivery import _mark_failed

    status = _mark_failed(
        db.session, erasure.confirmation.id, now, f"550 {EMAIL} unknown", permanent=True
    )
    db.session.commit()
    assert status == "failed"
    assert text_hits(case.needles) == []


def test_delete_me_erases_and_the_token_stops(app: Flask, client: FlaskClient) -> None:
    case = relative_with_everything()
    token = issue_api_token(db.session, utcnow(), relative_id=case.relative.id)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    refused = client.delete("/api/v1/me", json={}, headers=headers)
    assert refused.status_code == 400 and refused.json["error"] == "confirm_missing"
    assert db.session.get_one(Relative, case.relative.id).deleted_at is None

    assert client.delete("/api/v1/me", json={"confirm": True}, headers=headers).status_code == 204
    assert client.get("/api/v1/me/settings", headers=headers).status_code == 401
    from tests.factories import sent_mail

    mails = sent_mail("")
    assert [m.subject for m in mails] == ["Ditt konto hos Lots är raderat"]
    assert text_hits(case.needles) == []


def test_the_erase_page_asks_for_confirmation_then_erases(app: Flask, client: FlaskClient) -> None:
    case = relative_with_everything()
    log_in_relative(client, case.relative)
    page = client.get("/mina-installningar/radera")
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)

    unconfirmed = client.post("/mina-installningar/radera", data={})
    assert unconfirmed.status_code == 400
    assert 'aria-describedby="confirm-error"' in unconfirmed.get_data(as_text=True)
    assert db.session.get_one(Relative, case.relative.id).deleted_at is None

    done = client.post("/mina-installningar/radera", data={"confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"].endswith(
        "/mina-installningar/raderat"
    )
    db.session.expire_all()
    assert db.session.get_one(Relative, case.relative.id).deleted_at is not None
    # The session ended with the account.
    assert client.get("/mina-installningar/").status_code == 302
    from tests.factories import sent_mail

    sent_mail()
    assert text_hits(case.needles) == []
    assert CapturedMail  # the confirmation was captured without its address
    assert (
        db.session.scalar(
            select(func.count()).where(CapturedMail.subject == "Ditt konto hos Lots är raderat")
        )
        == 1
    )
