"""Relatives, their consents and their one-time login tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guide.models.base import Model, UTCDateTime, utcnow


class ConsentPurpose(StrEnum):
    SERVICE = "service"
    CONTACT = "contact"
    STATISTICS = "statistics"


class Relative(Model):
    """A person who receives guidance; the e-mail address is the only required datum.

    A card proves a card, not an address. A redemption with an address that already
    has an account therefore makes a *pending* account: no `email`, the typed address
    in `claimed_email`, the new enrolment and the consents given with it. It joins the
    account of that address only when someone follows the link mailed there
    (`attach_pending`). `email_proved_at` is when a link mailed to `email` was first
    used; until then, what redeeming handed out ends as soon as the address is proved.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    claimed_email: Mapped[str | None] = mapped_column(String(320), index=True)
    email_proved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Raised at logout: every session cookie issued before, wherever copied, stops.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    language: Mapped[str] = mapped_column(String(8), default="sv")
    full_text_email: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # E-mail stops when the relative unsubscribes or the address bounces permanently.
    email_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_pause_reason: Mapped[str | None] = mapped_column(String(300))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Opt-in: mail of a sensitive guide names the guide and its modules (else it is discreet).
    titles_in_email: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The last time a login link or a token of the relative was used (retention counts from it).
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consents: Mapped[list[Consent]] = relationship(
        back_populates="relative", order_by="Consent.id", cascade="all, delete-orphan"
    )

    def consent(self, purpose: ConsentPurpose) -> bool:
        """Return the relative's latest answer for a purpose (no answer means no)."""
        return latest_answer([c.granted for c in self.consents if c.purpose == purpose])


def latest_answer(answers_in_order: Sequence[bool]) -> bool:
    """Return the latest of one consent question's answers, oldest first (none means no)."""
    return bool(answers_in_order and answers_in_order[-1])


class Consent(Model):
    """One answer to one consent question, with the wording version it answered."""

    id: Mapped[int] = mapped_column(primary_key=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("relative.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    relative: Mapped[Relative] = relationship(back_populates="consents")


class LoginToken(Model):
    """A single-use login link; only the token's hash is stored.

    With `attach_relative_id` it is the link of a "a card was used with your address"
    mail: using it also moves that pending account's enrolments into this one.
    """

    __tablename__ = "login_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("relative.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attach_relative_id: Mapped[int | None] = mapped_column(ForeignKey("relative.id"))

    relative: Mapped[Relative] = relationship(foreign_keys=[relative_id])


class LoginLinkRequest(Model):
    """One request for a login link, known address or not, kept for a day for the limit.

    Only a keyed hash of the address is kept, never the address itself. Writing one
    for every request also gives known and unknown addresses the same work to do.
    """

    __tablename__ = "login_link_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Only requests that sent a mail count towards the limit: one held back does not
    # push the owner's next request further away.
    mailed: Mapped[bool] = mapped_column(default=False)
