"""API for relatives: redeem a card, log in, read the journey and modules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, g, jsonify, request

from guide.accounts import issue_api_token
from guide.api import api
from guide.api.auth import ApiError, relative_token_required
from guide.api.openapi import document, error_response, json_body, json_response
from guide.auth import LoginLinkError, use_login_token
from guide.cards import local_today
from guide.content.library import current_library
from guide.enrolment import Redemption, RedemptionError, redeem_card
from guide.extensions import db, limiter
from guide.journey_view import enrolment_of, enrolments_of, journey_summary, module_page
from guide.mailer import send_now
from guide.models import ConsentPurpose
from guide.models.base import utcnow
from guide.web.public import REDEMPTION_LIMIT, _code_key, _failed, request_login_link

RELATIVE_TOKEN_LIFETIME = timedelta(days=90)


def _json() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", 'Skicka en JSON-kropp, till exempel {"code": "..."}.')
    return body


@api.post("/activations")
@limiter.shared_limit(REDEMPTION_LIMIT, "redeem-client", deduct_when=_failed)
@limiter.shared_limit(REDEMPTION_LIMIT, "redeem-code", key_func=_code_key, deduct_when=_failed)
def create_activation():  # type: ignore[no-untyped-def]
    body = _json()
    consents_raw = body.get("consents") or {}
    if not isinstance(consents_raw, dict):
        raise ApiError(400, "consents_invalid", 'consents är ett objekt som {"service": true}.')
    consents = {purpose: bool(consents_raw.get(purpose.value)) for purpose in ConsentPurpose}
    profile = body.get("profile") or {}
    if not isinstance(profile, dict):
        raise ApiError(400, "profile_invalid", "profile är ett objekt med svar per fråga.")
    language = body.get("language") or "sv"
    if language not in ("sv", "en"):
        raise ApiError(400, "language_invalid", "language är sv eller en.")
    now = utcnow()
    try:
        enrolment, welcome = redeem_card(
            db.session,
            current_library(),
            Redemption(
                code=str(body.get("code") or ""),
                email=str(body.get("email") or ""),
                consents=consents,
                language=language,
                profile=profile,
                timezone=current_app.config["GUIDE_TIMEZONE"],
            ),
            now,
            local_today(now),
        )
    except RedemptionError as error:
        raise ApiError(error.status, error.code, error.message, field=error.field) from None
    if welcome is not None:
        send_now(db.session, welcome)
    token = issue_api_token(
        db.session, now, relative_id=enrolment.relative_id, lifetime=RELATIVE_TOKEN_LIFETIME
    )
    db.session.commit()
    summary = journey_summary(db.session, current_library(), enrolment, now)
    return jsonify({"enrolment": summary.as_json(), "token": token}), 201


document(
    "/activations",
    "post",
    {
        "summary": "Redeem an activation card and enrol",
        "requestBody": json_body(
            {
                "type": "object",
                "required": ["code", "email", "consents"],
                "properties": {
                    "code": {"type": "string", "example": "DEM-7KQ4-M2XP-9ABZ"},
                    "email": {"type": "string", "format": "email"},
                    "language": {"type": "string", "enum": ["sv", "en"]},
                    "profile": {"type": "object", "description": "question id -> answer"},
                    "consents": {
                        "type": "object",
                        "properties": {p.value: {"type": "boolean"} for p in ConsentPurpose},
                        "required": ["service"],
                    },
                },
            }
        ),
        "responses": {
            "201": json_response("Enrolled; the journey and a bearer token"),
            "400": error_response(
                "code_malformed, code_mistyped, email_invalid, consent_required, profile_invalid"
            ),
            "404": error_response("code_unknown"),
            "409": error_response("code_used"),
            "410": error_response("code_revoked or code_expired"),
            "429": error_response("too many failed attempts"),
        },
    },
)


@api.post("/auth/login-link")
@limiter.limit("10 per hour")
def login_link():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True) or {}
    request_login_link(str(body.get("email") or ""))
    return jsonify({"message": "Om adressen finns hos oss har vi skickat en inloggningslänk."}), 202


document(
    "/auth/login-link",
    "post",
    {
        "summary": "E-mail a one-time login link (always 202, so no account can be guessed)",
        "requestBody": json_body({"type": "object", "properties": {"email": {"type": "string"}}}),
        "responses": {"202": json_response("Accepted")},
    },
)


@api.post("/auth/token")
@limiter.limit("20 per hour", deduct_when=_failed)
def exchange_token():  # type: ignore[no-untyped-def]
    body = _json()
    now = utcnow()
    try:
        relative = use_login_token(db.session, str(body.get("login_token") or ""), now)
    except LoginLinkError as error:
        db.session.rollback()
        raise ApiError(400, error.code, error.message) from None
    token = issue_api_token(
        db.session, now, relative_id=relative.id, lifetime=RELATIVE_TOKEN_LIFETIME
    )
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
        "requestBody": json_body(
            {
                "type": "object",
                "required": ["login_token"],
                "properties": {"login_token": {"type": "string"}},
            }
        ),
        "responses": {
            "200": json_response("A bearer token"),
            "400": error_response("login_link_invalid, login_link_used or login_link_expired"),
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
    wanted = request.args.get("enrolment", type=int)
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
            {"name": "module_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {
            "200": json_response("The module"),
            "404": error_response("module_not_released"),
        },
    },
)
