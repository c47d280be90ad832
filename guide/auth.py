"""Logging in: one-time links for relatives, passwords for staff, bearer tokens for the API."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from guide.accounts import hash_token
from guide.exceptions import GuideError
from guide.extensions import db
from guide.models import ApiToken, LoginToken, Relative, StaffRole, StaffUser
from guide.models.base import utcnow

F = TypeVar("F", bound=Callable[..., Any])


class LoginLinkError(GuideError):
    """A login link that cannot be used, with a sentence that says what to do."""

    @classmethod
    def unknown(cls) -> LoginLinkError:
        return cls("login_link_invalid", "Länken fungerar inte. Be om en ny inloggningslänk.")

    @classmethod
    def used(cls) -> LoginLinkError:
        return cls(
            "login_link_used",
            "Länken har redan använts. Varje länk fungerar en gång. Be om en ny inloggningslänk.",
        )

    @classmethod
    def expired(cls) -> LoginLinkError:
        return cls("login_link_expired", "Länken har slutat gälla. Be om en ny inloggningslänk.")


def create_login_token(
    session_: Session, relative: Relative, now: datetime, lifetime: timedelta
) -> str:
    """Create a single-use login token for a relative and return it (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    session_.add(
        LoginToken(
            relative_id=relative.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session_.flush()
    return token


def use_login_token(session_: Session, token: str, now: datetime) -> Relative:
    """Spend a login token and return its relative; a token works exactly once."""
    row = session_.scalar(select(LoginToken).where(LoginToken.token_hash == hash_token(token)))
    if row is None or row.relative.deleted_at is not None:
        raise LoginLinkError.unknown()
    if row.used_at is not None:
        raise LoginLinkError.used()
    if row.expires_at <= now:
        raise LoginLinkError.expired()
    # A conditional update so two clicks at once cannot both log in.
    from sqlalchemy import update

    spent = session_.execute(
        update(LoginToken)
        .where(LoginToken.id == row.id, LoginToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise LoginLinkError.used()
    return row.relative


def login_link_lifetime() -> timedelta:
    return timedelta(minutes=current_app.config["GUIDE_LOGIN_LINK_MINUTES"])


def mail_link_lifetime() -> timedelta:
    """Links inside welcome and notice e-mails: read days later, so they live longer."""
    return timedelta(days=current_app.config.get("GUIDE_MAIL_LINK_DAYS", 7))


# -- sessions -----------------------------------------------------------------------


def log_in_relative(relative: Relative) -> None:
    session.clear()
    session.permanent = True
    session["relative_id"] = relative.id


def log_in_staff(staff: StaffUser, now: datetime) -> None:
    session.clear()
    session["staff_id"] = staff.id
    session["staff_seen"] = now.timestamp()
    staff.last_login_at = now


def load_logged_in() -> None:
    """Find who is logged in: a relative, a staff member (idle sessions time out), or nobody."""
    g.relative = None
    g.staff = None
    relative_id = session.get("relative_id")
    if relative_id is not None:
        relative = db.session.get(Relative, relative_id)
        if relative is not None and relative.deleted_at is None:
            g.relative = relative
        else:
            session.clear()
    staff_id = session.get("staff_id")
    if staff_id is not None:
        idle = timedelta(minutes=current_app.config["STAFF_SESSION_IDLE_MINUTES"])
        seen = datetime.fromtimestamp(session.get("staff_seen", 0), tz=utcnow().tzinfo)
        now = utcnow()
        if now - seen > idle:
            session.clear()
            g.staff_timed_out = True
        else:
            g.staff = db.session.get(StaffUser, staff_id)
            session["staff_seen"] = now.timestamp()


def relative_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("relative") is None:
            return redirect(url_for("public.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def staff_required(*roles: StaffRole) -> Callable[[F], F]:
    """Require a logged-in staff member, optionally with one of `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            staff = g.get("staff")
            if staff is None:
                return redirect(url_for("staff.login", next=request.path))
            if roles and not staff.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# -- API tokens ---------------------------------------------------------------------


def bearer_token() -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return row
