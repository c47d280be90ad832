"""Mina inställningar: what a relative decides about their own journeys and mail (SPEC §9).

Pause and resume per enrolment, language, preferred hour, full text and titles in
e-mail, and each consent. Every change is an event on each enrolment it concerns,
so a journey can be explained afterwards. While an enrolment is paused the release
pass does not claim it (scheduler/jobs.py); resuming makes it due at once, and the
planner then releases what fell due meanwhile in one plan, so one catch-up mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from guide.errors import GuideError
from guide.models import Consent, ConsentPurpose, Enrolment, OutboxMessage, Relative
from guide.models.base import DbSession
from guide.services.accounts import AccountError, normalise_email
from guide.services.enrolment import CONSENT_TEXTS, CONSENT_VERSION
from guide.services.journey import record_event
from scheduler.planner import PREFERRED_HOURS

LANGUAGES = ("sv", "en")
MAX_ID = 2**31 - 1  # ids are PostgreSQL INTEGERs
ACTIVE = "active"


class SettingsError(GuideError):
    """A setting that cannot take the value asked for, with what to do instead."""

    @classmethod
    def language_unknown(cls) -> SettingsError:
        return cls("language_unknown", "Välj svenska eller engelska.", field="language")

    @classmethod
    def hour_invalid(cls) -> SettingsError:
        return cls(
            "preferred_hour_invalid",
            "Välj en tid mellan klockan 8 och klockan 20.",
            field="preferred_hour",
        )

    @classmethod
    def enrolment_unknown(cls) -> SettingsError:
        return cls("enrolment_not_found", "Guiden finns inte bland dina guider.", 404)

    @classmethod
    def purpose_unknown(cls) -> SettingsError:
        return cls(
            "consent_purpose_unknown",
            "Det samtycket finns inte. Välj service, contact eller statistics.",
            404,
        )

    @classmethod
    def email_invalid(cls) -> SettingsError:
        return cls(
            "email_invalid", "Skriv en e-postadress som ser ut som namn@exempel.se.", field="email"
        )

    @classmethod
    def email_link_invalid(cls) -> SettingsError:
        return cls(
            "email_link_invalid",
            "Länken fungerar inte längre. Logga in och byt e-postadress igen under Mina "
            "inställningar.",
            404,
        )

    @classmethod
    def email_link_expired(cls) -> SettingsError:
        return cls(
            "email_link_expired",
            "Länken har slutat gälla. Logga in och byt e-postadress igen under Mina inställningar.",
            404,
        )

    @classmethod
    def service_is_leaving(cls) -> SettingsError:
        return cls(
            "consent_service_is_erasure",
            "Att ta tillbaka samtycket till tjänsten är att lämna den. Radera ditt konto "
            "under Mina inställningar i stället.",
            409,
        )


@dataclass(frozen=True)
class ConsentState:
    """One consent as the relative sees it: the wording, the answer and when it was given."""

    purpose: str
    text: str
    granted: bool
    version: str | None
    recorded_at: datetime | None


def relative_enrolments(session: DbSession, relative: Relative) -> list[Enrolment]:
    return list(
        session.scalars(
            select(Enrolment)
            .where(Enrolment.relative_id == relative.id)
            .order_by(Enrolment.activated_at, Enrolment.id)
        )
    )


def own_enrolment(session: DbSession, relative: Relative, enrolment_id: int) -> Enrolment:
    """Return one of the relative's enrolments, or raise not found (never someone else's)."""
    # An id no column can hold is no enrolment of anyone's (and must not reach the database).
    enrolment = session.get(Enrolment, enrolment_id) if 1 <= enrolment_id <= MAX_ID else None
    if enrolment is None or enrolment.relative_id != relative.id:
        raise SettingsError.enrolment_unknown()
    return enrolment


def _record_everywhere(
    session: DbSession, relative: Relative, kind: str, now: datetime, **data: object
) -> None:
    for enrolment in relative_enrolments(session, relative):
        record_event(session, enrolment, kind, now, **data)


def pause(session: DbSession, enrolment: Enrolment, now: datetime) -> bool:
    """Pause an enrolment: nothing is released or mailed until it is resumed."""
    if enrolment.paused_at is not None:
        return False
    enrolment.paused_at = now
    record_event(session, enrolment, "paused", now)
    return True


def resume(session: DbSession, enrolment: Enrolment, now: datetime) -> bool:
    """Resume an enrolment: it falls due at once, and what came due meanwhile is one mail."""
    if enrolment.paused_at is None:
        return False
    paused_for = now - enrolment.paused_at
    enrolment.paused_at = None
    if enrolment.status == ACTIVE:
        enrolment.next_due_at = now
    record_event(session, enrolment, "resumed", now, paused_days=paused_for.days)
    return True


def set_paused(session: DbSession, enrolment: Enrolment, paused: bool, now: datetime) -> bool:
    """Pause or resume; return whether anything changed."""
    return pause(session, enrolment, now) if paused else resume(session, enrolment, now)


def set_language(session: DbSession, relative: Relative, language: str, now: datetime) -> bool:
    if language not in LANGUAGES:
        raise SettingsError.language_unknown()
    if relative.language == language:
        return False
    relative.language = language
    _record_everywhere(session, relative, "language_changed", now, language=language)
    return True


def set_preferred_hour(session: DbSession, relative: Relative, hour: int, now: datetime) -> bool:
    """Move every enrolment's mail to `hour` (local time, 08–20) from the next pass on."""
    if hour not in PREFERRED_HOURS:
        raise SettingsError.hour_invalid()
    changed = False
    for enrolment in relative_enrolments(session, relative):
        if enrolment.preferred_hour == hour:
            continue
        enrolment.preferred_hour = hour
        # The stored due moment was worked out for the old hour: let the next pass
        # plan again (it releases nothing that is not due at the new hour).
        if enrolment.status == ACTIVE and enrolment.next_due_at is not None:
            enrolment.next_due_at = min(enrolment.next_due_at, now)
        record_event(session, enrolment, "preferred_hour_changed", now, hour=hour)
        changed = True
    return changed


def set_full_text(session: DbSession, relative: Relative, full_text: bool, now: datetime) -> bool:
    """Choose whole modules in e-mail, or a notice only (a sensitive guide never mails text)."""
    if relative.full_text_email == full_text:
        return False
    relative.full_text_email = full_text
    _record_everywhere(session, relative, "full_text_changed", now, full_text=full_text)
    return True


def set_titles_in_email(
    session: DbSession, relative: Relative, titles: bool, now: datetime
) -> bool:
    """Choose whether mail of a sensitive guide names the guide and its modules."""
    if relative.titles_in_email == titles:
        return False
    relative.titles_in_email = titles
    _record_everywhere(session, relative, "titles_in_email_changed", now, titles=titles)
    return True


def purpose_of(raw: str) -> ConsentPurpose:
    try:
        return ConsentPurpose(raw)
    except ValueError:
        raise SettingsError.purpose_unknown() from None


def consents_of(relative: Relative) -> list[ConsentState]:
    """Return each consent with its wording, the latest answer and when it was given."""
    states = []
    for purpose in ConsentPurpose:
        answers = [c for c in relative.consents if c.purpose == purpose]
        latest = answers[-1] if answers else None
        states.append(
            ConsentState(
                purpose=purpose.value,
                text=CONSENT_TEXTS[purpose],
                granted=bool(latest and latest.granted),
                version=latest.version if latest else None,
                recorded_at=latest.recorded_at if latest else None,
            )
        )
    return states


def set_consent(
    session: DbSession, relative: Relative, purpose: ConsentPurpose, granted: bool, now: datetime
) -> bool:
    """Give or withdraw a consent, recorded with today's wording version.

    Withdrawing contact hides the contact details from staff at once (followup reads
    the latest consent); withdrawing statistics takes the relative out of every
    figure (privacy.statistics_excluded). Withdrawing the service itself is leaving:
    the caller erases instead (privacy.erase_relative).
    """
    if purpose == ConsentPurpose.SERVICE and not granted:
        raise SettingsError.service_is_leaving()
    if relative.consent(purpose) == granted:
        return False
    relative.consents.append(
        Consent(purpose=purpose, version=CONSENT_VERSION, granted=granted, recorded_at=now)
    )
    kind = "consent_given" if granted else "consent_withdrawn"
    _record_everywhere(session, relative, kind, now, purpose=purpose.value)
    session.flush()
    return True


# -- a new e-mail address, confirmed from that address -------------------------------

EMAIL_CHANGE_HOURS = 24
EMAIL_CHANGE_MAIL = "email_change"


def _email_change_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="email-change")


def request_email_change(
    session: DbSession, relative: Relative, raw_address: str, now: datetime
) -> OutboxMessage | None:
    """Mail a confirmation link to the new address; nothing changes until it is used.

    An address that already has an account gets no mail, but the relative is told
    the same as for any other: the answer must not reveal whose address it is.
    """
    try:
        address = normalise_email(raw_address)
    except AccountError:
        raise SettingsError.email_invalid() from None
    if address == relative.email or relative.email is None:
        return None
    if session.scalar(select(Relative.id).where(Relative.email == address)) is not None:
        return None
    message = OutboxMessage(
        idempotency_key=f"{EMAIL_CHANGE_MAIL}:{relative.id}:{now.isoformat()}",
        kind=EMAIL_CHANGE_MAIL,
        relative_id=relative.id,
        recipient=address,
        payload={"old": relative.email, "new": address},
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    _record_everywhere(session, relative, "email_change_requested", now)
    session.flush()
    return message


def email_change_token(relative: Relative, old: str, new: str) -> str:
    """Return the signed link token of a change from `old` to `new` (made when mailing)."""
    return str(_email_change_serializer().dumps([relative.id, old, new]))


def read_email_change(session: DbSession, token: str) -> tuple[Relative, str]:
    """Return the relative and new address of a valid link, or raise the reason it is not."""
    try:
        relative_id, old, new = _email_change_serializer().loads(
            token, max_age=EMAIL_CHANGE_HOURS * 3600
        )
    except SignatureExpired:
        raise SettingsError.email_link_expired() from None
    except (BadSignature, ValueError, TypeError):
        raise SettingsError.email_link_invalid() from None
    relative = session.get(Relative, relative_id) if isinstance(relative_id, int) else None
    # A link for an address the account no longer has (changed since, or erased) is dead.
    if relative is None or relative.deleted_at is not None or relative.email != old:
        raise SettingsError.email_link_invalid()
    return relative, str(new)


def confirm_email_change(session: DbSession, token: str, now: datetime) -> Relative:
    """Move the account to the new address: the link proved it; mail to it starts again."""
    relative, new = read_email_change(session, token)
    if session.scalar(select(Relative.id).where(Relative.email == new)) is not None:
        raise SettingsError.email_link_invalid()
    relative.email = new
    relative.email_proved_at = now
    relative.email_paused_at = None
    relative.email_pause_reason = None
    relative.session_version += 1  # sessions on the old address's links end
    _record_everywhere(session, relative, "email_changed", now)
    return relative
