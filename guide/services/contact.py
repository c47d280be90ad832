"""'Kontakta mig': a relative asks the unit that issued their card to contact them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import InstrumentedAttribute

from guide.models import (
    Alert,
    Consent,
    ConsentPurpose,
    Enrolment,
    Relative,
)
from guide.models.base import DbSession
from guide.services.accounts import AccountError, normalise_email
from guide.services.enrolment import CONSENT_VERSION
from guide.services.followup import OPEN, FollowupError, raise_alert
from guide.services.journey import record_event

MAX_MESSAGE = 2000


# The source of the alert a request to be contacted raises.
CONTACT_REQUEST: Final = "contact_request"
# The wording the guides' own rules use, so a case never says it twice.
CONTACT_REQUEST_REASON = "Anhörig vill bli kontaktad"


_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]*$")


@dataclass(frozen=True)
class ContactRequest:
    """What a relative gives when asking to be contacted; every field may be empty."""

    phone: str = ""
    email: str = ""
    message: str = ""
    consent: bool = False  # ticked now, for a relative who had not consented before


def request_contact(
    session: DbSession,
    relative: Relative,
    enrolment: Enrolment | None,
    request: ContactRequest,
    now: datetime,
) -> Alert:
    """Ask the unit that issued the card to contact the relative; raise an alert.

    Without an earlier consent to contact, the request itself must carry it; the
    consent is then recorded with today's wording version.
    """
    if enrolment is None or enrolment.relative_id != relative.id:
        raise FollowupError.no_enrolment()
    phone = _clean_phone(request.phone)
    email = _clean_email(request.email)
    if phone is None and email is None:
        raise FollowupError.no_way_to_reach()
    message = request.message.strip()
    if len(message) > MAX_MESSAGE:
        raise FollowupError.too_long("message", MAX_MESSAGE)
    if not relative.consent(ConsentPurpose.CONTACT):
        if not request.consent:
            raise FollowupError.consent_required()
        record_contact_consent(session, relative, now)
    record_event(session, enrolment, "contact_requested", now, phone=phone is not None)
    return raise_alert(
        session,
        enrolment,
        priority="normal",
        source=CONTACT_REQUEST,
        reason=CONTACT_REQUEST_REASON,
        now=now,
        phone=phone,
        contact_email=email,
        message=message or None,
    )


def record_contact_consent(session: DbSession, relative: Relative, now: datetime) -> Consent:
    """Record that the relative agrees to be contacted by staff, with the wording version."""
    consent = Consent(
        purpose=ConsentPurpose.CONTACT, version=CONSENT_VERSION, granted=True, recorded_at=now
    )
    relative.consents.append(consent)
    session.flush()
    return consent


def _clean_phone(raw: str) -> str | None:
    phone = " ".join(raw.split())
    if not phone:
        return None
    digits = sum(ch.isdigit() for ch in phone)
    if not _PHONE.match(phone) or not 6 <= digits <= 15 or len(phone) > 40:
        raise FollowupError.phone_invalid()
    return phone


def _clean_email(raw: str) -> str | None:
    if not raw.strip():
        return None
    try:
        return normalise_email(raw)
    except AccountError:
        raise FollowupError.email_invalid() from None


def waiting_contact_request(enrolment_id: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """SQL: an alert is a request of `enrolment_id`'s relative to be contacted, not yet answered."""
    return and_(
        Alert.enrolment_id == enrolment_id,
        Alert.source == CONTACT_REQUEST,
        Alert.status == OPEN,
    )
