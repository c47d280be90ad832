"""Sessions of the web pages: logging in and out, who is logged in, and views that require it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for

from guide.extensions import db
from guide.models import (
    Relative,
    StaffRole,
    StaffUser,
)
from guide.models.base import utcnow
from guide.services.login import relative_may_use, staff_may_use

F = TypeVar("F", bound=Callable[..., Any])


def log_in_relative(relative: Relative, *, address_proved: bool) -> None:
    """Start a relative's session; one from redeeming a card has not proved the address."""
    session.clear()
    session.permanent = True
    session["relative_id"] = relative.id
    session["relative_version"] = relative.session_version
    session["address_proved"] = address_proved


def log_in_staff(staff: StaffUser, now: datetime) -> None:
    session.clear()
    session["staff_id"] = staff.id
    session["staff_version"] = staff.session_version
    session["staff_seen"] = now.timestamp()
    staff.last_login_at = now


def log_out(now: datetime) -> None:
    """End this session and every copy of its cookie: the account's session version rises."""
    if g.get("relative") is not None:
        g.relative.session_version += 1
    if g.get("staff") is not None:
        g.staff.session_version += 1
    db.session.commit()
    session.clear()


def load_logged_in() -> None:
    """Find who is logged in: a relative, a staff member (idle sessions time out), or nobody."""
    g.relative = None
    g.relative_address_proved = False
    g.staff = None
    relative_id = session.get("relative_id")
    if relative_id is not None:
        relative = db.session.get(Relative, relative_id)
        proved = session.get("address_proved") is True
        if (
            relative_may_use(relative, proved)
            and relative is not None
            and session.get("relative_version") == relative.session_version
        ):
            g.relative = relative
            g.relative_address_proved = proved
        else:
            session.clear()
    staff_id = session.get("staff_id")
    if staff_id is not None:
        idle = timedelta(minutes=current_app.config["STAFF_SESSION_IDLE_MINUTES"])
        seen = datetime.fromtimestamp(session.get("staff_seen", 0), tz=utcnow().tzinfo)
        now = utcnow()
        staff = db.session.get(StaffUser, staff_id)
        if now - seen > idle:
            session.clear()
            g.staff_timed_out = True
        elif (
            staff is not None
            and staff_may_use(staff)
            and session.get("staff_version") == staff.session_version
        ):
            g.staff = staff
            session["staff_seen"] = now.timestamp()
        else:
            session.clear()


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
