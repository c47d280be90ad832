"""One-time links that let a staff member set a password."""

from __future__ import annotations

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from guide.models import StaffUser
from guide.models.base import DbSession

LINK_DAYS = 7


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="staff-password")


def password_token(account: StaffUser) -> str:
    # The current hash is part of the token, so the link stops working once it is used.
    return _serializer().dumps({"id": account.id, "h": (account.password_hash or "")[-16:]})


def password_link(account: StaffUser) -> str:
    return url_for("staff.set_password", token=password_token(account), _external=True)


def account_for_password_token(session: DbSession, token: str) -> StaffUser | None:
    """Return the account a password link is for, or None if it is wrong, used or too old."""
    try:
        data = _serializer().loads(token, max_age=LINK_DAYS * 24 * 3600)
    except (BadSignature, SignatureExpired):
        return None
    account = session.get(StaffUser, data.get("id"))
    if account is None or (account.password_hash or "")[-16:] != data.get("h"):
        return None
    return account
