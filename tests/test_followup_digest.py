"""The morning e-mail to unit staff about due and overdue cases: a link, once a working day."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from guide.extensions import db
from guide.models import CapturedMail, OutboxMessage
from guide.services.library import current_library
from scheduler.jobs import deliver_outbox, release_due
from tests.conftest import at
from tests.factories import enrol, issue_cards, make_tenant
from tests.test_followup_calls import ACTIVATED, FOLLOWUP_CONTENT


@pytest.fixture
def content_dir() -> Path:
    return FOLLOWUP_CONTENT


def digests() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "digest").order_by(OutboxMessage.id)
        )
    )


def test_unit_staff_get_one_morning_mail_a_working_day_while_cases_wait(app: Flask) -> None:
    tenant = make_tenant()
    enrol(issue_cards(tenant.unit, now=ACTIVATED)[0], "anna@example.se", now=ACTIVATED)
    library = current_library()
    release_due(db.session, library, at("2026-03-05 08:59"))  # the call is due at 09:00
    assert digests() == []
    for moment in ("2026-03-05 09:00", "2026-03-05 09:01", "2026-03-05 15:00"):
        release_due(db.session, library, at(moment))
    (first,) = digests()
    assert first.recipient == tenant.staff.email  # unit staff, not the other unit's
    assert first.payload == {"due": 1, "overdue": 0}
    # Nothing on Saturday and Sunday.
    release_due(db.session, library, at("2026-03-07 10:00"))
    release_due(db.session, library, at("2026-03-08 10:00"))
    assert len(digests()) == 1
    release_due(db.session, library, at("2026-03-13 09:30"))  # the target was 12 March 17:00
    second = digests()[-1]
    assert second.payload == {"due": 1, "overdue": 1}


def test_the_morning_mail_is_a_link_without_personal_details(app: Flask) -> None:
    tenant = make_tenant()
    enrol(issue_cards(tenant.unit, now=ACTIVATED)[0], "anna@example.se", now=ACTIVATED)
    release_due(db.session, current_library(), at("2026-03-05 09:00"))
    deliver_outbox(db.session, at("2026-03-05 09:00"))
    db.session.expire_all()
    (mail,) = db.session.scalars(
        select(CapturedMail).where(CapturedMail.recipient == tenant.staff.email)
    )
    assert mail.subject == "Ärenden att följa upp i dag"
    assert "/personal/uppfoljning/" in mail.text_body
    assert "1 ärende att följa upp" in mail.text_body
    for body in (mail.text_body, mail.html_body):
        assert "anna@example.se" not in body


def test_no_cases_no_mail(app: Flask) -> None:
    make_tenant()
    release_due(db.session, current_library(), at("2026-03-05 09:00"))
    assert digests() == []
