"""Logging in: one-time login links for relatives, and who may still use a session or token."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update

from guide.errors import N_, GuideError
from guide.mail.outbox import queue_message
from guide.models import (
    LoginLinkRequest,
    LoginToken,
    OutboxMessage,
    Relative,
    StaffUser,
)
from guide.models.base import DbSession
from guide.services.accounts import address_key, hash_token
from guide.services.enrolment import attach_pending

# secrets.token_urlsafe(32) gives 43 characters; anything else is not a token of ours.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,128}")


class LoginLinkError(GuideError):
    """A login link that cannot be used, with a sentence that says what to do."""

    @classmethod
    def unknown(cls) -> LoginLinkError:
        return cls(
            "login_link_invalid",
            N_("Länken fungerar inte. Be om en ny inloggningslänk."),
            field="token",
        )

    @classmethod
    def used(cls) -> LoginLinkError:
        return cls(
            "login_link_used",
            N_(
                "Länken har redan använts. Varje länk fungerar en gång. "
                "Be om en ny inloggningslänk."
            ),
            field="token",
        )

    @classmethod
    def expired(cls) -> LoginLinkError:
        return cls(
            "login_link_expired",
            N_("Länken har slutat gälla. Be om en ny inloggningslänk."),
            field="token",
        )


def create_login_token(
    session_: DbSession,
    relative: Relative,
    now: datetime,
    lifetime: timedelta,
    attach: Relative | None = None,
) -> str:
    """Create a single-use login token for a relative and return it (only its hash is kept).

    With `attach`, using the token also moves that pending account into `relative`.
    """
    token, row = new_login_token(relative, now, lifetime, attach)
    session_.add(LoginToken(**row))
    session_.flush()
    return token


def new_login_token(
    relative: Relative, now: datetime, lifetime: timedelta, attach: Relative | None = None
) -> tuple[str, dict[str, Any]]:
    """Return a new token and the column values of the row that keeps its hash.

    The delivery pass makes the tokens of a whole batch of mails and inserts their
    rows in one statement once the mails have rendered.
    """
    token = secrets.token_urlsafe(32)
    row = {
        "relative_id": relative.id,
        "token_hash": hash_token(token),
        "created_at": now,
        "expires_at": now + lifetime,
        "attach_relative_id": attach.id if attach is not None else None,
    }
    return token, row


def use_login_token(session_: DbSession, token: str, now: datetime) -> Relative:
    """Spend a login token and return its relative; a token works exactly once.

    The link came by e-mail, so using it proves the address; a link from "a card was
    used with your address" also attaches the pending account it names.
    """
    if not is_token_shaped(token):
        raise LoginLinkError.unknown()
    row = session_.scalar(select(LoginToken).where(LoginToken.token_hash == hash_token(token)))
    if row is None or row.relative.deleted_at is not None or row.relative.email is None:
        raise LoginLinkError.unknown()
    if row.used_at is not None:
        raise LoginLinkError.used()
    if row.expires_at <= now:
        raise LoginLinkError.expired()
    # A conditional update so two clicks at once cannot both log in.
    spent = session_.execute(
        update(LoginToken)
        .where(LoginToken.id == row.id, LoginToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise LoginLinkError.used()
    relative = row.relative
    relative.last_login_at = now  # retention counts inactivity from here
    if relative.email_proved_at is None:
        relative.email_proved_at = now
    if row.attach_relative_id is not None:
        pending = session_.get(Relative, row.attach_relative_id)
        if pending is not None:
            attach_pending(session_, pending, relative, now)
    return relative


def login_token_attaches(session_: DbSession, token: str) -> bool:
    """Return whether a usable login link would also attach a pending account (for its page)."""
    if not is_token_shaped(token):
        return False
    row = session_.scalar(select(LoginToken).where(LoginToken.token_hash == hash_token(token)))
    return row is not None and row.used_at is None and row.attach_relative_id is not None


def is_token_shaped(token: str) -> bool:
    """Return whether `token` could be one of ours (URL-safe base64), before any lookup."""
    return TOKEN_SHAPE.fullmatch(token) is not None


# Login-link mails per address, so nobody can fill a relative's inbox (SPEC §9).
LOGIN_LINK_LIMITS = ((3, timedelta(minutes=15)), (10, timedelta(days=1)))


def request_login_link(session_: DbSession, raw_email: str, now: datetime) -> OutboxMessage | None:
    """Queue a login-link mail for the address if it has an account and is under its limit.

    The caller answers the same whatever happens here (202, "if the address is
    ours, a link is on its way"), so neither an unknown address nor the limit
    shows; and the work is the same too: every request is counted, known or not.
    """
    email = address_key(raw_email)
    digest = _address_hash(email)
    over_limit = False
    for most, period in LOGIN_LINK_LIMITS:
        recent = session_.scalar(
            select(func.count())
            .select_from(LoginLinkRequest)
            .where(
                LoginLinkRequest.address_hash == digest,
                LoginLinkRequest.mailed.is_(True),
                LoginLinkRequest.requested_at > now - period,
            )
        )
        over_limit = over_limit or (recent or 0) >= most
    longest = max(period for _, period in LOGIN_LINK_LIMITS)
    session_.execute(delete(LoginLinkRequest).where(LoginLinkRequest.requested_at <= now - longest))
    relative = session_.scalar(select(Relative).where(Relative.email == email))
    sendable = not over_limit and relative is not None and relative.deleted_at is None
    session_.add(LoginLinkRequest(address_hash=digest, requested_at=now, mailed=sendable))
    # Queue the mail, or do the very same statements and take them back, so that the
    # database work (and so the time) does not tell a known address from an unknown.
    with session_.begin_nested() as savepoint:
        if sendable and relative is not None:
            message = queue_message(
                session_,
                kind="login",
                relative=relative,
                key=f"login:{relative.id}:{now.timestamp()}",
                now=now,
            )
        else:
            _rehearse_queueing(session_, email, now)
            savepoint.rollback()
            message = None
    return message


def _rehearse_queueing(session_: DbSession, email: str, now: datetime) -> None:
    """Run what `queue_message` runs for a login link; the caller rolls it back."""
    key = f"login:rehearsal:{now.timestamp()}"
    session_.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    session_.add(
        OutboxMessage(
            idempotency_key=key,
            kind="login",
            recipient=email,
            payload={},
            next_attempt_at=now,
            created_at=now,
        )
    )
    session_.flush()


def _address_hash(email: str) -> str:
    """A keyed hash of an address: the table of requests holds no address that can be read."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, email.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def login_link_lifetime() -> timedelta:
    return timedelta(minutes=current_app.config["GUIDE_LOGIN_LINK_MINUTES"])


def mail_link_lifetime() -> timedelta:
    """Links inside welcome and notice e-mails: read days later, so they live longer."""
    return timedelta(days=current_app.config.get("GUIDE_MAIL_LINK_DAYS", 7))


def relative_may_use(relative: Relative | None, address_proved: bool) -> bool:
    """Return whether a session or token of `relative` still holds.

    One handed out by redeeming a card did not prove the address; it stops when the
    account is erased or moved into another, and when the address is proved (by a
    mailed link, perhaps by its real owner, who must not find a stranger inside).
    """
    if relative is None or relative.deleted_at is not None:
        return False
    return address_proved or relative.email_proved_at is None


def staff_may_use(staff: StaffUser | None) -> bool:
    return staff is not None and staff.active
