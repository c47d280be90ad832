"""The staff follow-up queue: alerts, what staff did with them, and who read what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guide.models.accounts import StaffUser
from guide.models.base import Model, UTCDateTime, utcnow
from guide.models.journey import Enrolment


class Alert(Model):
    """A relative the unit that issued the card should follow up."""

    __table_args__ = (Index("ix_alert_queue", "unit_id", "status", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    source: Mapped[str] = mapped_column(String(20))  # rule | crisis | contact_request | followup
    reason: Mapped[str] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the case is there to work (a follow-up call's working morning; else when it
    # came in) and by when staff should have made contact.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    target_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The staff member the case goes to first: who took it, or the relative's contact person.
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    enrolment: Mapped[Enrolment] = relationship()
    assigned_staff: Mapped[StaffUser | None] = relationship()
    notes: Mapped[list[AlertNote]] = relationship(
        order_by="AlertNote.id", cascade="all, delete-orphan"
    )


class AlertNote(Model):
    __tablename__ = "alert_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    action: Mapped[str] = mapped_column(String(20))  # contacted | no_answer | taken | note | closed
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditLog(Model):
    """Every staff read of a relative's contact details, and other sensitive actions."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int]
    # What the action was about beyond the row, e.g. the key of a local fact changed.
    detail: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FollowupCall(Model):
    """A guide's follow-up call, handled once per enrolment: the unique key says once.

    `outcome` is `case` (it made or joined `alert_id`), `offered` (no contact consent:
    Min guide asks "Vill du att någon ringer dig?"), `accepted` (the relative said yes
    to that) or `missed` (its target had passed before it could be raised).
    """

    __tablename__ = "followup_call"
    __table_args__ = (UniqueConstraint("enrolment_id", "followup_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    followup_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    target_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffProfile(Model):
    """What a staff member chose to show relatives as their contact person; nothing else."""

    __tablename__ = "staff_profile"

    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(100), default="")
    reach: Mapped[str] = mapped_column(String(200), default="")  # a phone number or hours


class ContactPerson(Model):
    """The staff member who is a relative's named contact in one enrolment."""

    __tablename__ = "contact_person"

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    set_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    staff: Mapped[StaffUser] = relationship(foreign_keys=[staff_user_id])
    # What they chose to show (read-only: profiles are written by themselves).
    profile: Mapped[StaffProfile | None] = relationship(
        primaryjoin="ContactPerson.staff_user_id == foreign(StaffProfile.staff_user_id)",
        viewonly=True,
    )
