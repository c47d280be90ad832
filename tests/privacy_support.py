"""Builders for the privacy tests: a relative with every kind of data, and the table scan."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import JSON, String, Text, select

from guide.extensions import db
from guide.mail.delivery import deliver_due
from guide.models import Alert, Enrolment, Relative
from guide.services.accounts import issue_api_token
from guide.services.checkins import answer_checkin
from guide.services.contact import ContactRequest, request_contact
from guide.services.followup import contact_details, mark_contacted
from guide.services.library import current_library
from guide.services.login import create_login_token, request_login_link
from guide.services.needs import tick_needs
from tests.checkin_support import FIRST_CHECKIN, Enrolled, enrolled, open_checkin
from tests.factories import enrol, issue_cards

EMAIL = "erika.unik@example.se"
PHONE = "070-987 65 43"
CONTACT_EMAIL = "erika.jobb.unik@example.se"
MESSAGE = "Ring helst efter lunch, QWERTY-meddelande"
FREE_ANSWER = "Pappa slutade äta i maj, ZXCVB-svar"
STAFF_NOTE = "Pratade med henne om ZXCVB-samtalet"
CONTROL_EMAIL = "kontroll.person@example.se"
CONTROL_MESSAGE = "Kontrollens eget meddelande ASDFG"


@dataclass
class Everything:
    relative: Relative
    enrolment: Enrolment
    alert: Alert
    case: Enrolled
    other: Enrolled

    @property
    def needles(self) -> list[str]:
        """What must not survive: the addresses, phone, message, answers and notes."""
        return [EMAIL, PHONE, CONTACT_EMAIL, MESSAGE, FREE_ANSWER, STAFF_NOTE, '"ovrigt"']


def relative_with_everything(now: Any = FIRST_CHECKIN) -> Everything:
    """A relative with profile, answers, free text, needs, a contact request, notes, mail, tokens."""
    case = enrolled(email=EMAIL)
    enrolment = case.enrolment
    db.session.execute(
        Enrolment.__table__.update()
        .where(Enrolment.id == enrolment.id)
        .values(profile={"bor-ihop": "yes"})
    )
    instance = open_checkin(enrolment, now)
    library = current_library()
    answer_checkin(
        db.session,
        library,
        instance,
        {"ork": "1", "kansla": "orolig", "stod": ["familj"], "ovrigt": FREE_ANSWER},
        now,
    )
    guide = library.guide(enrolment.guide_id)
    tick_needs(db.session, guide, enrolment, "valkommen", ["prata"], now)
    alert = request_contact(
        db.session,
        case.relative,
        enrolment,
        ContactRequest(phone=PHONE, email=CONTACT_EMAIL, message=MESSAGE),
        now,
    )
    db.session.commit()
    assert contact_details(db.session, case.tenant.staff, alert, now) is not None
    mark_contacted(db.session, case.tenant.staff, alert, STAFF_NOTE, now)
    create_login_token(db.session, case.relative, now, timedelta(minutes=30))
    issue_api_token(db.session, now, relative_id=case.relative.id)
    request_login_link(db.session, EMAIL, now)
    db.session.commit()
    deliver_due(db.session, now + timedelta(minutes=1))  # welcome and notices: sent, captured
    # A card used with the same address later: a pending account holding it too.
    enrol(issue_cards(case.tenant.unit, guide="kontroll", now=now)[0], EMAIL, now=now)
    # One mail still waiting when the relative leaves.
    open_checkin(enrolment, now + timedelta(days=14))
    # Someone else, who stays.
    other = enrolled(case.tenant, email=CONTROL_EMAIL)
    request_contact(
        db.session,
        other.relative,
        other.enrolment,
        ContactRequest(phone="08-123 456", message=CONTROL_MESSAGE),
        now,
    )
    db.session.commit()
    return Everything(case.relative, enrolment, alert, case, other)


def text_hits(needles: list[str]) -> list[str]:
    """Scan every text and JSON column of every table for the needles; name each hit."""
    hits = []
    lowered = [n.lower() for n in needles]
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                text = (
                    value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                ).lower()
                hits += [
                    f"{table.name}.{column.name}: {needle}" for needle in lowered if needle in text
                ]
    return hits
