"""Activation cards and the batches they are issued in."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guide.models.accounts import Organisation, StaffUser, Unit
from guide.models.base import Model, UTCDateTime, utcnow


class CardStatus(StrEnum):
    NEW = "new"
    ACTIVATED = "activated"
    EXPIRED = "expired"  # derived: a new card past its expiry date
    REVOKED = "revoked"


class CardBatch(Model):
    __tablename__ = "card_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    guide_id: Mapped[str] = mapped_column(String(64))
    start_phase: Mapped[str | None] = mapped_column(String(64))
    expires_on: Mapped[date | None] = mapped_column(Date)
    count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    unit: Mapped[Unit] = relationship()
    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[StaffUser | None] = relationship()


class Card(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("card_batch.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    guide_id: Mapped[str] = mapped_column(String(64))
    start_phase: Mapped[str | None] = mapped_column(String(64))
    expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=CardStatus.NEW)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    batch: Mapped[CardBatch] = relationship()
    unit: Mapped[Unit] = relationship()

    def status_on(self, today: date) -> CardStatus:
        """Return the status as staff see it: a new card past its date is expired."""
        if (
            self.status == CardStatus.NEW
            and self.expires_on is not None
            and self.expires_on < today
        ):
            return CardStatus.EXPIRED
        return CardStatus(self.status)
