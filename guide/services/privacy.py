"""A relative's own data: erasing it (GDPR Art. 17), and who is left out of statistics.

Erasure removes personal data from every table that holds it and keeps only what is
anonymous: the enrolment's guide, unit and dates, the releases and read times, the
fact that a check-in was answered, that an alert existed and when it was handled,
and the audit log of staff reads (which names an alert, never a person). Unsent mail
to the relative is cancelled; one last mail confirming the erasure is queued to be
sent at once, and its outbox row forgets the address once it is sent or given up
(guide.mail.delivery, FORGET_RECIPIENT_KINDS).

The test beside this module (tests/test_privacy_erase.py) scans every text and JSON
column of every table in the metadata for the relative's address, phone, message
and answers, so a table added later cannot escape unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, false, func, or_, select, update

from guide.errors import GuideError
from guide.mail.outbox import FORGET_RECIPIENT_KINDS
from guide.models import (
    Alert,
    AlertNote,
    ApiToken,
    CapturedMail,
    CheckinInstance,
    Consent,
    ConsentPurpose,
    Enrolment,
    Event,
    LoginLinkRequest,
    LoginToken,
    NeedTick,
    OutboxMessage,
    Relative,
)
from guide.models.base import DbSession
from guide.services.login import _address_hash as address_hash  # keyed: the table holds no address

ERASED = "erased"
# What an erased alert's reason says: the fact remains, the words derived from answers go.
ERASED_REASON = "Raderad på den anhörigas begäran"
ERASURE_MAIL = "erased"
assert ERASURE_MAIL in FORGET_RECIPIENT_KINDS


class PrivacyError(GuideError):
    """A request about a relative's own data that cannot be done as asked."""

    @classmethod
    def confirmation_required(cls) -> PrivacyError:
        return cls(
            "confirmation_required",
            "Kryssa i att du vill radera ditt konto. Det går inte att ångra.",
            field="confirm",
        )


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed, in counts only."""

    relatives: int
    enrolments: int
    mails_cancelled: int
    confirmation: OutboxMessage | None


def erase_relative(
    session: DbSession, relative: Relative, now: datetime, reason: str = "request"
) -> Erasure:
    """Erase the relative's personal data everywhere and queue the confirming mail.

    Pending accounts made with the same address (a card used with it) are erased
    with it: they hold the address too. Idempotent: erasing an erased relative does
    nothing. The caller commits, then sends `confirmation` at once.
    """
    if relative.deleted_at is not None:
        return Erasure(0, 0, 0, None)
    # Only the account that holds the address speaks for it. A pending account (a card
    # used with someone's address) erases itself, never the owner's mail or requests.
    address = relative.email
    language = relative.language
    relatives = [relative]
    if address is not None:
        relatives += session.scalars(
            select(Relative).where(
                Relative.claimed_email == address,
                Relative.id != relative.id,
                Relative.deleted_at.is_(None),
            )
        ).all()
    ids = [r.id for r in relatives]
    enrolment_ids = list(
        session.scalars(select(Enrolment.id).where(Enrolment.relative_id.in_(ids)))
    )
    cancelled = _forget_mail(session, ids, address, now)
    _forget_journeys(session, enrolment_ids, now, reason)
    _forget_tokens(session, ids, address)
    session.execute(delete(Consent).where(Consent.relative_id.in_(ids)))
    for each in relatives:
        each.email = None
        each.claimed_email = None
        each.email_proved_at = None
        each.email_paused_at = now
        each.email_pause_reason = None
        each.full_text_email = False
        each.titles_in_email = False
        each.last_login_at = None
        each.deleted_at = now
        each.session_version += 1  # every session and copied cookie ends
    session.flush()
    session.expire_all()  # relationships loaded before (consents, releases) are stale now
    confirmation = None
    if address is not None:
        confirmation = _queue_confirmation(session, relative.id, address, language, reason, now)
    return Erasure(len(relatives), len(enrolment_ids), cancelled, confirmation)


def _forget_mail(
    session: DbSession, relative_ids: list[int], address: str | None, now: datetime
) -> int:
    """Cancel unsent mail to the relatives and strip what was sent of address and payload."""
    theirs = or_(
        OutboxMessage.relative_id.in_(relative_ids),
        OutboxMessage.recipient == address if address else false(),
    )
    unsent = OutboxMessage.status.in_(("pending", "sending", "unrenderable"))
    cancelled = session.execute(
        update(OutboxMessage)
        .where(theirs, unsent)
        .values(status="cancelled", claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        update(OutboxMessage)
        .where(theirs)
        .values(recipient="", payload={}, last_error=None)
        .execution_options(synchronize_session=False)
    )
    if address is not None:
        session.execute(delete(CapturedMail).where(CapturedMail.recipient == address))
    return int(cancelled)


def _forget_journeys(
    session: DbSession, enrolment_ids: list[int], now: datetime, reason: str
) -> None:
    """Keep each enrolment's anonymous skeleton; drop answers, free text and notes."""
    if not enrolment_ids:
        return
    session.execute(
        update(Enrolment)
        .where(Enrolment.id.in_(enrolment_ids))
        .values(status=ERASED, profile={}, answers={}, next_due_at=None, paused_at=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CheckinInstance)
        .where(CheckinInstance.enrolment_id.in_(enrolment_ids))
        .values(answers=None)
        .execution_options(synchronize_session=False)
    )
    # An event keeps its kind and time (what happened when), never what it carried.
    session.execute(
        update(Event)
        .where(Event.enrolment_id.in_(enrolment_ids))
        .values(data={})
        .execution_options(synchronize_session=False)
    )
    alerts = select(Alert.id).where(Alert.enrolment_id.in_(enrolment_ids))
    session.execute(
        update(AlertNote)
        .where(AlertNote.alert_id.in_(alerts))
        .values(note="")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Alert)
        .where(Alert.enrolment_id.in_(enrolment_ids))
        .values(phone=None, contact_email=None, message=None, reason=ERASED_REASON)
        .execution_options(synchronize_session=False)
    )
    # Nobody is left to contact: an alert still waiting leaves the queue, closed now.
    session.execute(
        update(Alert)
        .where(Alert.enrolment_id.in_(enrolment_ids), Alert.status != "closed")
        .values(status="closed", closed_at=now)
        .execution_options(synchronize_session=False)
    )
    for enrolment_id in enrolment_ids:
        session.add(
            Event(enrolment_id=enrolment_id, kind="erased", at=now, data={"reason": reason})
        )


def _forget_tokens(session: DbSession, relative_ids: list[int], address: str | None) -> None:
    session.execute(
        delete(LoginToken).where(
            or_(
                LoginToken.relative_id.in_(relative_ids),
                LoginToken.attach_relative_id.in_(relative_ids),
            )
        )
    )
    session.execute(delete(ApiToken).where(ApiToken.relative_id.in_(relative_ids)))
    if address is not None:
        session.execute(
            delete(LoginLinkRequest).where(LoginLinkRequest.address_hash == address_hash(address))
        )


def _queue_confirmation(
    session: DbSession,
    relative_id: int,
    address: str,
    language: str,
    reason: str,
    now: datetime,
) -> OutboxMessage:
    """Queue the one last mail; it is the only row left that holds the address, until sent."""
    message = OutboxMessage(
        idempotency_key=f"{ERASURE_MAIL}:{relative_id}",
        kind=ERASURE_MAIL,
        relative_id=relative_id,
        enrolment_id=None,
        recipient=address,
        payload={"language": language, "reason": reason},
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def statistics_excluded() -> Select[Any]:
    """Return the ids of relatives whose statistics consent is not (or no longer) given.

    Statistics derived from answers, needs and reading filter with
    `Enrolment.relative_id.not_in(statistics_excluded())`: a withdrawal takes the
    relative out of every figure at once, and the consent rows stay the record.
    """
    newest = (
        select(func.max(Consent.id))
        .where(Consent.purpose == ConsentPurpose.STATISTICS)
        .group_by(Consent.relative_id)
    )
    granted = select(Consent.relative_id).where(Consent.id.in_(newest), Consent.granted.is_(True))
    return select(Relative.id).where(Relative.id.not_in(granted))


# What each kind of mail was about, for the export (the subject line it was sent with).
MAIL_SUBJECTS = {
    "welcome": "Välkommen till din guide",
    "card_used": "Ett kort har använts med din e-postadress",
    "login": "Din inloggningslänk",
    "notice": "Nytt avsnitt i din guide / Några frågor till dig",
    "retention_warning": "Vill du ha kvar din guide?",
    "erased": "Ditt konto hos Lots är raderat",
    "email_change": "Bekräfta din nya e-postadress",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_relative(session: DbSession, relative: Relative) -> dict[str, Any]:
    """Return everything stored about the relative as one JSON document (GDPR Art. 15, 20).

    The API documents every field (guide/api/privacy.py, EXPORT_SCHEMA); the test
    builds a relative with every kind of data and finds each of them here.
    """
    enrolments = session.scalars(
        select(Enrolment)
        .where(Enrolment.relative_id == relative.id)
        .order_by(Enrolment.activated_at, Enrolment.id)
    ).all()
    mails = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.relative_id == relative.id)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ).all()
    return {
        "format": "lots-export-1",
        "account": {
            "id": relative.id,
            "email": relative.email,
            "language": relative.language,
            "full_text_email": relative.full_text_email,
            "titles_in_email": relative.titles_in_email,
            "created_at": _iso(relative.created_at),
            "email_proved_at": _iso(relative.email_proved_at),
            "last_login_at": _iso(relative.last_login_at),
            "email_paused_at": _iso(relative.email_paused_at),
            "email_pause_reason": relative.email_pause_reason,
        },
        "consents": [
            {
                "purpose": c.purpose,
                "granted": c.granted,
                "version": c.version,
                "recorded_at": _iso(c.recorded_at),
            }
            for c in relative.consents
        ],
        "enrolments": [_export_enrolment(session, e) for e in enrolments],
        "mails": [
            {
                "kind": m.kind,
                "subject": MAIL_SUBJECTS.get(m.kind, m.kind),
                "status": m.status,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in mails
        ],
    }


def _export_enrolment(session: DbSession, enrolment: Enrolment) -> dict[str, Any]:
    checkins = session.scalars(
        select(CheckinInstance)
        .where(CheckinInstance.enrolment_id == enrolment.id)
        .order_by(CheckinInstance.opened_at, CheckinInstance.id)
    ).all()
    needs = session.scalars(
        select(NeedTick)
        .where(NeedTick.enrolment_id == enrolment.id)
        .order_by(NeedTick.ticked_at, NeedTick.id)
    ).all()
    alerts = session.scalars(
        select(Alert).where(Alert.enrolment_id == enrolment.id).order_by(Alert.id)
    ).all()
    events = session.scalars(
        select(Event).where(Event.enrolment_id == enrolment.id).order_by(Event.at, Event.id)
    ).all()
    return {
        "id": enrolment.id,
        "guide": enrolment.guide_id,
        "organisation": enrolment.organisation.name,
        "unit": enrolment.unit.name,
        "activated_at": _iso(enrolment.activated_at),
        "status": enrolment.status,
        "paused_at": _iso(enrolment.paused_at),
        "timezone": enrolment.timezone,
        "preferred_hour": enrolment.preferred_hour,
        "profile": enrolment.profile or {},
        "answers": enrolment.answers or {},
        "phases": [
            {"phase": v.phase, "started_at": _iso(v.started_at), "reason": v.reason}
            for v in enrolment.phase_visits
        ],
        "releases": [
            {
                "module": r.module_id,
                "title": _title(r.version.texts),
                "released_at": _iso(r.released_at),
                "reason": r.reason,
                "read_at": _iso(r.read_at),
            }
            for r in sorted(enrolment.releases, key=lambda r: (r.released_at, r.id))
        ],
        "checkins": [
            {
                "checkin": c.checkin_id,
                "due_at": _iso(c.due_at),
                "opened_at": _iso(c.opened_at),
                "answered_at": _iso(c.answered_at),
                "expired_at": _iso(c.expired_at),
                "answers": c.answers,
            }
            for c in checkins
        ],
        "needs": [
            {"module": n.module_id, "need": n.need_id, "ticked_at": _iso(n.ticked_at)}
            for n in needs
        ],
        "followup_calls": [
            {
                "followup": call.followup_id,
                "outcome": call.outcome,
                "due_at": _iso(call.due_at),
                "target_at": _iso(call.target_at),
                "created_at": _iso(call.created_at),
            }
            for call in enrolment.followup_calls
        ],
        # The named contact as staff chose to be shown (their profile's name), if any.
        "contact_person": _contact_name(enrolment),
        "alerts": [
            {
                "created_at": _iso(a.created_at),
                "source": a.source,
                "priority": a.priority,
                "reason": a.reason,
                "status": a.status,
                "phone": a.phone,
                "contact_email": a.contact_email,
                "message": a.message,
                "first_contact_at": _iso(a.first_contact_at),
                "closed_at": _iso(a.closed_at),
                "notes": [{"action": n.action, "note": n.note, "at": _iso(n.at)} for n in a.notes],
            }
            for a in alerts
        ],
        "events": [{"kind": e.kind, "at": _iso(e.at), "data": e.data or {}} for e in events],
    }


def _title(texts: dict[str, Any]) -> str:
    text: dict[str, Any] = texts.get("sv") or next(iter(texts.values()), {})
    return str(text.get("title", ""))


def _contact_name(enrolment: Enrolment) -> str | None:
    named = enrolment.contact_person
    if named is None:
        return None
    profile = named.profile
    return profile.display_name if profile is not None and profile.display_name else None
