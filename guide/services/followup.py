"""Follow-up of relatives: alerts, contact requests and the staff queue (SPEC §8, §9).

An alert goes to the unit that issued the relative's card. A relative is in the queue
once at a time: a new alert while an earlier one still waits for contact is added to
that one (its priority can only rise). Staff see a relative's contact details only
when the relative consented to being contacted, and every such view is logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, Select, and_, case, false, select

from guide.content.model import Duration
from guide.errors import N_, GuideError
from guide.mail.outbox import queue_staff_message
from guide.models import (
    Alert,
    AlertNote,
    ConsentPurpose,
    ContactPerson,
    Enrolment,
    NeedTick,
    OutboxMessage,
    StaffRole,
    StaffUser,
)
from guide.models.base import DbSession
from guide.services.audit import record_audit
from guide.services.journey import record_event
from scheduler.followups import target_time

Priority = Literal["normal", "urgent"]


Source = Literal["rule", "crisis", "contact_request", "followup"]


OPEN, CONTACTED, CLOSED = "open", "contacted", "closed"


ACTIVE_STATUSES = (OPEN, CONTACTED)


STATUSES = (OPEN, CONTACTED, CLOSED)


MAX_REASON = 500


MAX_NOTE = 2000


CRISIS_REASON = "Svar som tyder på kris: kontakta snarast"


# Who works a follow-up queue: unit staff and organisation admins (editors do not).
QUEUE_ROLES = (StaffRole.STAFF, StaffRole.ORG_ADMIN)

# When two alerts meet in one, the stronger source names it.
_SOURCE_WEIGHT = {"rule": 0, "followup": 0, "contact_request": 1, "crisis": 2}


class FollowupError(GuideError):
    """A follow-up action that cannot be done, with a sentence that says what to do."""

    @classmethod
    def not_found(cls) -> FollowupError:
        return cls("alert_not_found", N_("Ärendet finns inte i din uppföljningskö."), 404)

    @classmethod
    def closed(cls) -> FollowupError:
        return cls("alert_closed", N_("Ärendet är redan stängt."), 409)

    @classmethod
    def consent_required(cls) -> FollowupError:
        return cls(
            "consent_required",
            N_("För att personal ska kunna kontakta dig behöver du först godkänna det."),
            field="consent_contact",
        )

    @classmethod
    def no_enrolment(cls) -> FollowupError:
        return cls(
            "no_enrolment",
            N_(
                "Du har ingen aktiv guide. Aktivera ditt kort först, så vet vi vem som ska "
                "höra av sig."
            ),
            404,
            field="enrolment",
        )

    @classmethod
    def no_way_to_reach(cls) -> FollowupError:
        return cls(
            "contact_missing",
            N_("Skriv ett telefonnummer eller en e-postadress som vi kan nå dig på."),
            field="phone",
        )

    @classmethod
    def phone_invalid(cls) -> FollowupError:
        return cls(
            "phone_invalid",
            N_("Skriv telefonnumret med siffror, till exempel 070-123 45 67."),
            field="phone",
        )

    @classmethod
    def email_invalid(cls) -> FollowupError:
        return cls(
            "email_invalid",
            N_("Skriv en e-postadress som ser ut som namn@exempel.se."),
            field="email",
        )

    @classmethod
    def too_long(cls, field: str, limit: int) -> FollowupError:
        return cls(
            "text_too_long", N_("Texten får vara högst %(limit)s tecken.", limit=limit), field=field
        )


def raise_alert(
    session: DbSession,
    enrolment: Enrolment,
    *,
    priority: Priority,
    source: Source,
    reason: str,
    now: datetime,
    phone: str | None = None,
    contact_email: str | None = None,
    message: str | None = None,
    target_at: datetime | None = None,
    **event_data: Any,
) -> Alert:
    """Put the relative in the queue of the unit that issued the card, and record it.

    If the relative already waits for a first contact, the alert joins that one (it
    keeps the nearer target); an urgent alert (new, or raised from normal) queues an
    e-mail to the unit's staff. Without `target_at` the target is the configured
    default for the priority. A relative with a contact person goes to them first.
    """
    target_at = target_at or default_target(priority, now, enrolment.timezone)
    alert = session.scalar(
        select(Alert)
        .where(Alert.enrolment_id == enrolment.id, Alert.status == OPEN)
        .order_by(Alert.id.desc())
        .limit(1)
    )
    was_urgent = alert is not None and alert.priority == "urgent"
    if alert is None:
        alert = Alert(
            enrolment_id=enrolment.id,
            organisation_id=enrolment.organisation_id,
            unit_id=enrolment.unit_id,
            priority=priority,
            source=source,
            reason=reason[:MAX_REASON],
            phone=phone,
            contact_email=contact_email,
            message=message,
            status=OPEN,
            created_at=now,
            due_at=now,
            target_at=target_at,
            assigned_staff_id=session.scalar(
                select(ContactPerson.staff_user_id).where(
                    ContactPerson.enrolment_id == enrolment.id
                )
            ),
        )
        session.add(alert)
        session.flush()
    else:
        _join(alert, priority, source, reason, phone, contact_email, message)
        if alert.target_at is None or target_at < alert.target_at:
            alert.target_at = target_at
    record_event(
        session,
        enrolment,
        "alert_raised",
        now,
        alert=alert.id,
        priority=priority,
        source=source,
        **event_data,
    )
    if alert.priority == "urgent" and not was_urgent:
        _queue_urgent_mail(session, alert, now)
    return alert


DEFAULT_TARGETS = {"normal": "7d", "urgent": "0d"}


def default_target(priority: Priority, now: datetime, timezone: str) -> datetime:
    """Return the configured target for a new case of `priority` that comes in at `now`.

    GUIDE_CONTACT_TARGET (default 7d) for contact requests and normal alerts,
    GUIDE_URGENT_TARGET (default 0d, the same working day) for urgent ones.
    """
    key = "GUIDE_URGENT_TARGET" if priority == "urgent" else "GUIDE_CONTACT_TARGET"
    raw = current_app.config[key] if has_app_context() else DEFAULT_TARGETS[priority]
    return target_time(now, Duration.parse(raw), ZoneInfo(timezone))


def is_overdue(alert: Alert, now: datetime) -> bool:
    """Return whether the case still waits for a first contact after its target."""
    return (
        alert.status == OPEN
        and alert.first_contact_at is None
        and alert.target_at is not None
        and now > alert.target_at
    )


def _join(
    alert: Alert,
    priority: Priority,
    source: Source,
    reason: str,
    phone: str | None,
    contact_email: str | None,
    message: str | None,
) -> None:
    if priority == "urgent":
        alert.priority = "urgent"
    if _SOURCE_WEIGHT[source] > _SOURCE_WEIGHT.get(alert.source, 0):
        alert.source = source
    reasons = alert.reason.split("; ")
    if reason.strip().casefold() not in {r.strip().casefold() for r in reasons}:
        alert.reason = "; ".join([reason, *reasons] if priority == "urgent" else [*reasons, reason])
        alert.reason = alert.reason[:MAX_REASON]
    alert.phone = phone or alert.phone
    alert.contact_email = contact_email or alert.contact_email
    if message:
        alert.message = f"{alert.message}\n\n{message}" if alert.message else message


def _queue_urgent_mail(session: DbSession, alert: Alert, now: datetime) -> list[OutboxMessage]:
    """Tell the unit's staff (else the organisation's admins) that an urgent alert waits.

    The mail holds no personal details, only a link to the alert behind the login.
    """
    recipients = _unit_staff(session, alert)
    return [
        queue_staff_message(
            session,
            kind="alert",
            recipient_email=staff.email,
            key=f"alert:{alert.id}:staff:{staff.id}",
            payload={"alert_id": alert.id},
            now=now,
        )
        for staff in recipients
    ]


def _unit_staff(session: DbSession, alert: Alert) -> Sequence[StaffUser]:
    in_unit = session.scalars(
        select(StaffUser)
        .where(
            StaffUser.unit_id == alert.unit_id, StaffUser.organisation_id == alert.organisation_id
        )
        .order_by(StaffUser.id)
    ).all()
    if in_unit:
        return in_unit
    # A unit without staff accounts must not swallow an urgent alert.
    return session.scalars(
        select(StaffUser)
        .where(
            StaffUser.organisation_id == alert.organisation_id,
            StaffUser.role == StaffRole.ORG_ADMIN,
        )
        .order_by(StaffUser.id)
    ).all()


def urgent_mail(session: DbSession, alerts: Iterable[Alert]) -> list[OutboxMessage]:
    """Return the unsent urgent e-mails about `alerts`, for the caller to send at once."""
    messages: list[OutboxMessage] = []
    for alert in alerts:
        messages.extend(
            session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.kind == "alert",
                    OutboxMessage.idempotency_key.startswith(f"alert:{alert.id}:"),
                    OutboxMessage.status == "pending",
                )
                .order_by(OutboxMessage.id)
            )
        )
    return messages


def may_work_queue(staff: StaffUser) -> bool:
    """Return whether the account has a follow-up queue at all (editors do not)."""
    return staff.organisation_id is not None and staff.has_role(*QUEUE_ROLES)


def _visible_to(staff: StaffUser) -> ColumnElement[bool]:
    """Staff see their own unit's alerts; organisation admins their organisation's."""
    if not may_work_queue(staff):
        return false()
    same_organisation = Alert.organisation_id == staff.organisation_id
    if staff.has_role(StaffRole.ORG_ADMIN):
        return same_organisation
    if staff.unit_id is None:
        return false()
    return and_(same_organisation, Alert.unit_id == staff.unit_id)


def queue_query(staff: StaffUser, statuses: Sequence[str] = ACTIVE_STATUSES) -> Select[Alert]:
    """Return the alerts `staff` may work: urgent first, then the nearest target first."""
    urgent_first = case((Alert.priority == "urgent", 0), else_=1)
    without_target_last = case((Alert.target_at.is_(None), 1), else_=0)
    return (
        select(Alert)
        .where(_visible_to(staff), Alert.status.in_(statuses))
        .order_by(urgent_first, without_target_last, Alert.target_at, Alert.created_at, Alert.id)
    )


def alert_for_staff(session: DbSession, staff: StaffUser, alert_id: int) -> Alert:
    """Return an alert `staff` may see, or raise not_found: others' alerts do not exist."""
    alert = session.scalar(select(Alert).where(Alert.id == alert_id, _visible_to(staff)))
    if alert is None:
        raise FollowupError.not_found()
    return alert


@dataclass(frozen=True)
class ContactDetails:
    """How staff may reach the relative; shown only with the relative's consent."""

    account_email: str | None
    phone: str | None
    contact_email: str | None
    message: str | None
    needs: tuple[tuple[str, str], ...]  # (module id, need id) the relative ticked


def contact_details(
    session: DbSession, staff: StaffUser, alert: Alert, now: datetime
) -> ContactDetails | None:
    """Return the relative's contact details for `staff`, logging the read; None without consent."""
    relative = alert.enrolment.relative
    if relative.deleted_at is not None or not relative.consent(ConsentPurpose.CONTACT):
        return None
    record_audit(session, staff, "view_contact_details", "alert", alert.id, now)
    needs = session.execute(
        select(NeedTick.module_id, NeedTick.need_id)
        .where(NeedTick.enrolment_id == alert.enrolment_id)
        .order_by(NeedTick.ticked_at, NeedTick.id)
    ).all()
    return ContactDetails(
        account_email=relative.email,
        phone=alert.phone,
        contact_email=alert.contact_email,
        message=alert.message,
        needs=tuple((module_id, need_id) for module_id, need_id in needs),
    )


def mark_contacted(
    session: DbSession, staff: StaffUser, alert: Alert, note: str, now: datetime
) -> AlertNote:
    """Record that staff reached the relative; the first time sets the time to first contact."""
    if alert.status == CLOSED:
        raise FollowupError.closed()
    entry = _note(alert, staff, "contacted", note, now)
    if alert.first_contact_at is None:
        alert.first_contact_at = now
    alert.status = CONTACTED
    record_event(session, alert.enrolment, "alert_contacted", now, alert=alert.id)
    return entry


def mark_no_answer(
    session: DbSession, staff: StaffUser, alert: Alert, note: str, now: datetime
) -> AlertNote:
    """Record a try that reached no one: the case stays open, with the note."""
    if alert.status == CLOSED:
        raise FollowupError.closed()
    entry = _note(alert, staff, "no_answer", note, now)
    record_event(session, alert.enrolment, "alert_no_answer", now, alert=alert.id)
    return entry


def close_alert(
    session: DbSession, staff: StaffUser, alert: Alert, note: str, now: datetime
) -> AlertNote:
    """Close an alert; a relative who needs more later gets a new one."""
    if alert.status == CLOSED:
        raise FollowupError.closed()
    entry = _note(alert, staff, "closed", note, now)
    alert.status = CLOSED
    alert.closed_at = now
    record_event(session, alert.enrolment, "alert_closed", now, alert=alert.id)
    return entry


def _note(alert: Alert, staff: StaffUser, action: str, note: str, now: datetime) -> AlertNote:
    text = note.strip()
    if len(text) > MAX_NOTE:
        raise FollowupError.too_long("note", MAX_NOTE)
    entry = AlertNote(staff_user_id=staff.id, action=action, note=text, at=now)
    alert.notes.append(entry)
    return entry


def time_to_first_contact(alert: Alert) -> timedelta | None:
    """Return how long the relative waited for staff's first contact, if it happened."""
    if alert.first_contact_at is None:
        return None
    return alert.first_contact_at - alert.created_at
