"""A sensitive guide stays discreet in the inbox (issue 13 item 5).

Every mail kind a relative of `efterlevande` can get is produced over a year of the
shipped journey; none may name the guide, a module (title or summary) or a check-in.
With titles chosen in Mina inställningar, the same mail does name them, which also
proves the search finds what it looks for.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import select

from guide.content.model import Guide
from guide.extensions import db
from guide.models import CapturedMail, CheckinInstance
from guide.services.checkins import answer_checkin
from guide.services.library import current_library
from guide.services.login import request_login_link
from guide.services.privacy import erase_relative
from scheduler.jobs import deliver_outbox, release_due
from tests.conftest import SHIPPED_CONTENT, at
from tests.factories import enrol, issue_cards, make_tenant

START = at("2026-03-02 10:00")
EMAIL = "efterlevande@example.se"


@pytest.fixture
def content_dir() -> Path:
    return SHIPPED_CONTENT


def telling_words(guide: Guide) -> list[str]:
    """What would tell an onlooker what the guide is about."""
    words = [text for _, text in guide.title.values]
    for module in guide.modules:
        for text in module.texts.values():
            words += [text.title, text.summary]
    words += [text for c in guide.checkins for _, text in c.title.values]
    return [w.strip() for w in words if w and len(w.strip()) > 8]


def a_year_of_mail(titles: bool) -> list[SimpleNamespace]:
    """Enrol in efterlevande, live a year of ticks, answer each check-in, log in, erase."""
    tenant = make_tenant()
    enrolment = enrol(issue_cards(tenant.unit, guide="efterlevande", now=START)[0], EMAIL, START)
    relative = enrolment.relative
    relative.titles_in_email = titles
    db.session.commit()
    library = current_library()
    moment = START
    while moment < START + timedelta(days=370):
        release_due(db.session, library, moment)
        for instance in db.session.scalars(
            select(CheckinInstance).where(
                CheckinInstance.enrolment_id == enrolment.id,
                CheckinInstance.answered_at.is_(None),
                CheckinInstance.expired_at.is_(None),
            )
        ):
            answer_checkin(db.session, library, instance, {}, moment)
        db.session.commit()
        deliver_outbox(db.session, moment)
        moment += timedelta(days=1)
    request_login_link(db.session, EMAIL, moment)
    # A card used with the address once more: the "card used" mail to the owner.
    enrol(issue_cards(tenant.unit, guide="efterlevande", now=moment)[0], EMAIL, moment)
    db.session.commit()
    deliver_outbox(db.session, moment)
    # Erasing deletes the captured copies to the address: read them first.
    mails = [_copy(m) for m in db.session.scalars(select(CapturedMail).order_by(CapturedMail.id))]
    erase_relative(db.session, relative, moment)
    db.session.commit()
    deliver_outbox(db.session, moment)
    confirmations = db.session.scalars(select(CapturedMail).where(CapturedMail.recipient == ""))
    return mails + [_copy(m) for m in confirmations]


def _copy(mail: CapturedMail) -> SimpleNamespace:
    return SimpleNamespace(subject=mail.subject, text_body=mail.text_body, html_body=mail.html_body)


def test_no_mail_of_a_sensitive_guide_names_the_guide_a_module_or_a_check_in(
    app: Flask,
) -> None:
    guide = current_library().guide("efterlevande")
    assert guide.sensitive
    words = telling_words(guide)
    mails = a_year_of_mail(titles=False)
    subjects = {m.subject for m in mails}
    assert {
        "Välkommen till din guide",
        "Nytt i din guide",
        "Din inloggningslänk",
        "Ett kort har använts med din e-postadress",
        "Ditt konto hos Lots är raderat",
    } <= subjects, subjects
    assert len(mails) >= 8
    leaks = [
        f"{mail.subject!r} names {word!r}"
        for mail in mails
        for word in words
        if word in mail.text_body or word in mail.html_body or word in mail.subject
    ]
    assert leaks == []
    notice = next(m for m in mails if m.subject == "Nytt i din guide")
    assert "Det finns något nytt att läsa i din guide." in notice.text_body
    assert "/logga-in/" in notice.text_body


def test_a_relative_who_chose_titles_gets_them(app: Flask) -> None:
    guide = current_library().guide("efterlevande")
    mails = a_year_of_mail(titles=True)
    bodies = " ".join(m.text_body for m in mails)
    assert guide.title.get("sv") in bodies
    assert any(module.texts["sv"].title in bodies for module in guide.modules)
