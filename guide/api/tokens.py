"""The request's bearer token, if it is ours, unexpired, unrevoked and its owner's."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import bindparam, select

from guide.extensions import db
from guide.models import ApiToken, Relative
from guide.models.base import utcnow
from guide.services.accounts import hash_token
from guide.services.login import is_token_shaped, staff_may_use

# Built once: each API request asks it.
_TOKEN_AND_RELATIVE = (
    select(ApiToken, Relative)
    .outerjoin(Relative, Relative.id == ApiToken.relative_id)
    .where(ApiToken.token_hash == bindparam("hash"))
)


def bearer_token() -> ApiToken | None:
    """Return the request's bearer token if it is ours, unexpired, unrevoked and its owner's."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    if not is_token_shaped(token):
        return None
    # The token's relative comes in the same statement: the caller's session.get finds it.
    found = db.session.execute(_TOKEN_AND_RELATIVE, {"hash": hash_token(token)}).first()
    row = found[0] if found is not None else None
    # The identity map holds objects weakly: keep the relative for this request.
    g.token_relative = found[1] if found is not None else None
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    if row.staff_user_id is not None and not staff_may_use(row.staff_user):
        return None
    return row
