"""Relatives, their consents and their one-time login tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guide.extensions import db
from guide.models.base import UTCDateTime, utcnow


class ConsentPurpose(StrEnum):
    SERVICE = "service"
    CONTACT = "contact"
    STATISTICS = "statistics"


class Relative(db.Model):
    """A person who receives guidance; the e-mail address is the only required datum."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="sv")
    full_text_email: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # E-mail stops when the relative unsubscribes or the address bounces permanently.
    email_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_pause_reason: Mapped[str | None] = mapped_column(String(300))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consents: Mapped[list[Consent]] = relationship(
        back_populates="relative", order_by="Consent.id", cascade="all, delete-orphan"
    )

    def consent(self, purpose: ConsentPurpose) -> bool:
        """Return the relative's latest answer for a purpose (no answer means no)."""
        latest = [c for c in self.consents if c.purpose == purpose]
        return bool(latest and latest[-1].granted)


class Consent(db.Model):
    """One answer to one consent question, with the wording version it answered."""

    id: Mapped[int] = mapped_column(primary_key=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("relative.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    relative: Mapped[Relative] = relationship(back_populates="consents")


class LoginToken(db.Model):
    """A single-use login link; only the token's hash is stored."""

    __tablename__ = "login_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("relative.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    relative: Mapped[Relative] = relationship()
