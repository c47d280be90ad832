"""API: change the answers given when the card was redeemed (PUT /api/v1/me/enrolments/<id>/profile)."""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.auth import relative_token_required
from guide.api.bodies import MAX_ID, ProfileBody, parse_body
from guide.api.openapi import document, error_response, json_body, json_response, path_parameter
from guide.extensions import db
from guide.models.base import utcnow
from guide.services.library import current_library
from guide.services.profile import change_profile
from guide.services.reading import enrolment_of, journey_summary


@api.put("/me/enrolments/<int:enrolment_id>/profile")
@relative_token_required
def change_my_profile(enrolment_id: int) -> ResponseReturnValue:
    body = parse_body(ProfileBody)
    enrolment = enrolment_of(db.session, g.api_relative, enrolment_id)
    library = current_library()
    now = utcnow()
    changed = change_profile(db.session, library, enrolment, body.profile, now)
    db.session.commit()
    return jsonify(
        {
            "profile": enrolment.profile or {},
            "changed": changed,
            "journey": journey_summary(db.session, library, enrolment).as_json(),
        }
    )


document(
    "/me/enrolments/{enrolment_id}/profile",
    "put",
    {
        "summary": "Replace the answers given when the card was redeemed; the journey follows them",
        "description": "The whole profile: a question left out or null has no answer. A "
        "date is YYYY-MM-DD (or 3/2 2026, 3 februari 2026) and may not lie after today "
        "unless the question allows it. A corrected date moves every module and "
        "check-in not yet released to the new days; nothing is released twice.",
        "security": [{"bearer": []}],
        "parameters": [
            path_parameter("enrolment_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID})
        ],
        "requestBody": json_body(ProfileBody),
        "responses": {
            "200": json_response("The stored answers, which changed, and the journey"),
            "400": error_response("invalid_json, answer_invalid"),
            "401": error_response("unauthorized"),
            "404": error_response("not_found"),
            "413": error_response("body too large"),
        },
    },
)
