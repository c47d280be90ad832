"""API for relatives: redeem a card, log in, read the journey and modules."""

from __future__ import annotations

from flask import current_app, g, jsonify

from guide.accounts import RELATIVE_TOKEN_LIFETIME, issue_api_token
from guide.api import api
from guide.api.auth import ApiError, relative_token_required
from guide.api.bodies import (
    MAX_ID,
    ActivationBody,
    LoginLinkBody,
    TokenBody,
    parse_body,
    query_id,
)
from guide.api.openapi import document, error_response, json_body, json_response
from guide.auth import LoginLinkError, bearer_token, request_login_link, use_login_token
from guide.background_mail import send_after_request
from guide.cards import local_today
from guide.content.library import current_library
from guide.enrolment import Redemption, RedemptionError, redeem_card
from guide.extensions import db, limiter
from guide.journey_view import enrolment_of, enrolments_of, journey_summary, module_page
from guide.models import ConsentPurpose
from guide.models.base import utcnow
from guide.web.public import REDEMPTION_LIMIT, _code_key, _failed


@api.post("/activations")
@limiter.shared_limit(REDEMPTION_LIMIT, "redeem-client", deduct_when=_failed)
@limiter.shared_limit(REDEMPTION_LIMIT, "redeem-code", key_func=_code_key, deduct_when=_failed)
def create_activation():  # type: ignore[no-untyped-def]
    """Redeem a card; the answer is the same whether or not the address has an account."""
    body = parse_body(ActivationBody)
    consents = {purpose: bool(getattr(body.consents, purpose.value)) for purpose in ConsentPurpose}
    now = utcnow()
    try:
        enrolment, first_mail = redeem_card(
            db.session,
            current_library(),
            Redemption(
                code=body.code,
                email=body.email,
                consents=consents,
                language=body.language,
                profile=body.profile,
                timezone=current_app.config["GUIDE_TIMEZONE"],
            ),
            now,
            local_today(now),
        )
    except RedemptionError as error:
        raise ApiError(error.status, error.code, error.message, field=error.field) from None
    # The card proved the card, not the address: the token reaches this enrolment only.
    token = issue_api_token(
        db.session, now, relative_id=enrolment.relative_id, address_proved=False
    )
    db.session.commit()
    send_after_request(first_mail)
    summary = journey_summary(db.session, current_library(), enrolment, now)
    return jsonify({"enrolment": summary.as_json(), "token": token}), 201


document(
    "/activations",
    "post",
    {
        "summary": "Redeem an activation card and enrol",
        "description": "A card proves a card, not an e-mail address. The token in the "
        "answer reaches the new enrolment only, and stops once the address is proved: "
        "log in with a link mailed to the address (POST /auth/login-link, then "
        "POST /auth/token) to reach the whole account. The answer is the same whether "
        "or not the address already has an account.",
        "requestBody": json_body(ActivationBody),
        "responses": {
            "201": json_response("Enrolled; the journey and a bearer token"),
            "400": error_response(
                "invalid_json, code_malformed, code_mistyped, email_invalid, consent_required, "
                "profile_invalid"
            ),
            "404": error_response("code_unknown"),
            "409": error_response("code_used"),
            "410": error_response("code_revoked or code_expired"),
            "413": error_response("body too large"),
            "429": error_response("too many failed attempts"),
        },
    },
)


@api.post("/auth/login-link")
@limiter.limit("10 per hour")
def login_link():  # type: ignore[no-untyped-def]
    body = parse_body(LoginLinkBody)
    message = request_login_link(db.session, body.email, utcnow())
    db.session.commit()
    send_after_request(message)
    return jsonify({"message": "Om adressen finns hos oss har vi skickat en inloggningslänk."}), 202


document(
    "/auth/login-link",
    "post",
    {
        "summary": "E-mail a one-time login link (always 202, so no account can be guessed)",
        "description": "At most 3 links per address in 15 minutes and 10 a day; the "
        "answer does not say when the limit holds one back.",
        "requestBody": json_body(LoginLinkBody),
        "responses": {
            "202": json_response("Accepted"),
            "400": error_response("invalid_json or email_missing"),
            "429": error_response("too many requests from this client"),
        },
    },
)


@api.post("/auth/token")
@limiter.limit("20 per hour", deduct_when=_failed)
def exchange_token():  # type: ignore[no-untyped-def]
    body = parse_body(TokenBody)
    now = utcnow()
    try:
        relative = use_login_token(db.session, body.login_token, now)
    except LoginLinkError as error:
        db.session.rollback()
        raise ApiError(400, error.code, error.message) from None
    token = issue_api_token(db.session, now, relative_id=relative.id)
    db.session.commit()
    return jsonify(
        {
            "token": token,
            "token_type": "bearer",
            "expires_in": int(RELATIVE_TOKEN_LIFETIME.total_seconds()),
        }
    )


document(
    "/auth/token",
    "post",
    {
        "summary": "Exchange the token from a login link for a bearer token",
        "requestBody": json_body(TokenBody),
        "responses": {
            "200": json_response("A bearer token"),
            "400": error_response("login_link_invalid, login_link_used or login_link_expired"),
            "429": error_response("too many failed attempts"),
        },
    },
)


@api.delete("/auth/token")
def revoke_token():  # type: ignore[no-untyped-def]
    """Revoke the bearer token this request carries (a relative's or a staff member's)."""
    token = bearer_token()
    if token is None:
        raise ApiError(
            401, "unauthorized", "Logga in med en giltig token (Authorization: Bearer ...)."
        )
    token.revoked_at = utcnow()
    db.session.commit()
    return "", 204


document(
    "/auth/token",
    "delete",
    {
        "summary": "Revoke the bearer token of this request; it stops at once",
        "security": [{"bearer": []}],
        "responses": {
            "204": {"description": "Revoked"},
            "401": error_response("unauthorized"),
        },
    },
)


@api.get("/me/journey")
@relative_token_required
def my_journey():  # type: ignore[no-untyped-def]
    now = utcnow()
    library = current_library()
    return jsonify(
        {
            "enrolments": [
                journey_summary(db.session, library, e, now).as_json()
                for e in enrolments_of(db.session, g.api_relative)
            ]
        }
    )


document(
    "/me/journey",
    "get",
    {
        "summary": "The relative's enrolments: phase, released modules, library, next release, open check-ins",
        "security": [{"bearer": []}],
        "responses": {"200": json_response("The journey"), "401": error_response("unauthorized")},
    },
)


@api.get("/me/modules/<module_id>")
@relative_token_required
def my_module(module_id: str):  # type: ignore[no-untyped-def]
    library = current_library()
    enrolments = enrolments_of(db.session, g.api_relative)
    wanted = query_id("enrolment")
    if wanted is not None:
        enrolments = [enrolment_of(db.session, g.api_relative, wanted)]
    now = utcnow()
    for enrolment in enrolments:
        if any(r.module_id == module_id for r in enrolment.releases):
            page = module_page(
                db.session, library, enrolment, module_id, now, link_for=lambda m: None
            )
            db.session.commit()
            return jsonify(
                {
                    "id": module_id,
                    "enrolment": enrolment.id,
                    "title": page.title,
                    "summary": page.summary,
                    "html": str(page.html),
                    "released_at": page.released.released_at.isoformat() if page.released else None,
                    "updated": page.updated,
                    "needs": [{"id": i, "text": t} for i, t in page.needs],
                }
            )
    raise ApiError(404, "module_not_released", "Avsnittet finns inte bland dina avsnitt.")


document(
    "/me/modules/{module_id}",
    "get",
    {
        "summary": "A released module, rendered HTML with local facts filled in; opening it marks it read",
        "security": [{"bearer": []}],
        "parameters": [
            {"name": "module_id", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "enrolment",
                "in": "query",
                "description": "only with several guides that share a module id",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            },
        ],
        "responses": {
            "200": json_response("The module"),
            "404": error_response("module_not_released"),
        },
    },
)
