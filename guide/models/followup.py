"""The staff follow-up queue: alerts, what staff did with them, and who read what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    source: Mapped[str] = mapped_column(String(20))  # rule | crisis | contact_request
    reason: Mapped[str] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    enrolment: Mapped[Enrolment] = relationship()
    notes: Mapped[list[AlertNote]] = relationship(
        order_by="AlertNote.id", cascade="all, delete-orphan"
    )


class AlertNote(Model):
    __tablename__ = "alert_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    action: Mapped[str] = mapped_column(String(20))  # contacted | note | closed
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
