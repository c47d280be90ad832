"""API: the relative's journey and the modules released to them (/api/v1/me/journey, /me/modules)."""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.auth import ApiError, relative_token_required
from guide.api.bodies import (
    MAX_ID,
    ActivationBody,
    LoginLinkBody,
    TokenBody,
    query_id,
)
from guide.api.openapi import document, error_response, json_body, json_response
from guide.errors import N_
from guide.extensions import db
from guide.models.base import end_read, utcnow
from guide.services.library import current_library
from guide.services.reading import (
    enrolment_of,
    enrolments_of,
    journey_summaries,
    module_page,
)

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
def my_journey() -> ResponseReturnValue:
    summaries = journey_summaries(db.session, current_library(), g.api_relative)
    end_read(db.session)
    return jsonify({"enrolments": [summary.as_json() for summary in summaries]})


document(
    "/me/journey",
    "get",
    {
        "summary": "The relative's enrolments: phase, released modules, library, next release, open check-ins",
        "description": "Each enrolment also gives `contact_person: {name, role, reach}`: the "
        "relative's named contact person as they chose to show themselves, or the unit's "
        "contact while none is named or without the consent to be contacted; and "
        '`call_offered`: whether Min guide asks "Vill du att någon ringer dig?".',
        "security": [{"bearer": []}],
        "responses": {"200": json_response("The journey"), "401": error_response("unauthorized")},
    },
)


@api.get("/me/modules/<module_id>")
@relative_token_required
def my_module(module_id: str) -> ResponseReturnValue:
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
    raise ApiError(404, "module_not_released", N_("Avsnittet finns inte bland dina avsnitt."))


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
