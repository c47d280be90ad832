"""API: login links and bearer tokens for relatives (/api/v1/auth/...)."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from guide.api import api
from guide.api.auth import ApiError
from guide.api.bodies import (
    LoginLinkBody,
    TokenBody,
    parse_body,
)
from guide.api.tokens import bearer_token
from guide.errors import N_
from guide.extensions import db, limiter
from guide.mail.background import send_after_request
from guide.models.base import utcnow
from guide.rate_limits import failed
from guide.services.accounts import RELATIVE_TOKEN_LIFETIME, issue_api_token
from guide.services.login import request_login_link, use_login_token


@api.post("/auth/login-link")
@limiter.limit("10 per hour")
def login_link() -> ResponseReturnValue:
    body = parse_body(LoginLinkBody)
    message = request_login_link(db.session, body.email, utcnow())
    db.session.commit()
    send_after_request(message)
    return jsonify(
        {"message": gettext("Om adressen finns hos oss har vi skickat en inloggningslänk.")}
    ), 202


@api.post("/auth/token")
@limiter.limit("20 per hour", deduct_when=failed)
def exchange_token() -> ResponseReturnValue:
    body = parse_body(TokenBody)
    now = utcnow()
    relative = use_login_token(db.session, body.login_token, now)
    token = issue_api_token(db.session, now, relative_id=relative.id)
    db.session.commit()
    return jsonify(
        {
            "token": token,
            "token_type": "bearer",
            "expires_in": int(RELATIVE_TOKEN_LIFETIME.total_seconds()),
        }
    )


@api.delete("/auth/token")
def revoke_token() -> ResponseReturnValue:
    """Revoke the bearer token this request carries (a relative's or a staff member's)."""
    token = bearer_token()
    if token is None:
        raise ApiError(
            401, "unauthorized", N_("Logga in med en giltig token (Authorization: Bearer ...).")
        )
    token.revoked_at = utcnow()
    db.session.commit()
    return "", 204
