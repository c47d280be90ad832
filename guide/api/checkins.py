"""API: answer an open check-in (POST /api/v1/me/checkins/<id>)."""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.auth import relative_token_required
from guide.api.bodies import (
    CheckinAnswersBody,
    ContactRequestBody,
    NeedsBody,
    parse_body,
)
from guide.api.openapi import document, error_response, json_body, json_response, path_parameter
from guide.extensions import db
from guide.mail.delivery import send_now
from guide.models import Alert
from guide.models.base import utcnow
from guide.services.checkins import answer_checkin, checkin_for_relative
from guide.services.followup import urgent_mail
from guide.services.library import current_library

CHANGE_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {
            "type": "string",
            "enum": ["release", "phase", "mute", "alert", "crisis", "checkin"],
        },
        "id": {"type": "string", "description": "module, phase, muted target, alert or check-in"},
        "title": {"type": "string", "description": "a title for people; for crisis the text"},
    },
}


@api.post("/me/checkins/<int:instance_id>")
@relative_token_required
def answer_my_checkin(instance_id: int) -> ResponseReturnValue:
    body = parse_body(CheckinAnswersBody)
    instance = checkin_for_relative(db.session, g.api_relative, instance_id)
    outcome = answer_checkin(db.session, current_library(), instance, body.answers, utcnow())
    db.session.commit()
    alerts = [a for alert_id in outcome.alert_ids if (a := db.session.get(Alert, alert_id))]
    for message in urgent_mail(db.session, alerts):
        send_now(db.session, message)
    return jsonify(outcome.as_json())


document(
    "/me/checkins/{checkin_id}",
    "post",
    {
        "summary": "Answer an open check-in; its rules take effect at once and the answer "
        "lists what changed",
        "description": "Every question may be skipped: leave it out or send null. A choice "
        "or yes_no answer is the option id (yes/no), a scale an integer 1-5, a multi a "
        "list of option ids, a text a string. When a crisis rule fires, `crisis` holds "
        "the text to show the relative at once.",
        "security": [{"bearer": []}],
        "parameters": [
            path_parameter(
                "checkin_id", description="the id of the open check-in, from GET /me/journey"
            )
        ],
        "requestBody": json_body(CheckinAnswersBody),
        "responses": {
            "200": json_response(
                "The answer and what it changed",
                {
                    "type": "object",
                    "properties": {
                        "checkin": {"type": "object"},
                        "changes": {"type": "array", "items": CHANGE_SCHEMA},
                        "released": {"type": "array", "items": {"type": "string"}},
                        "phase": {"type": ["string", "null"]},
                        "alert_raised": {"type": "boolean"},
                        "crisis": {"type": ["string", "null"]},
                    },
                },
            ),
            "400": error_response("answers_invalid (with field: the question)"),
            "401": error_response("unauthorized"),
            "404": error_response("checkin_not_found"),
            "409": error_response("checkin_answered or checkin_expired"),
        },
    },
)


document(
    "/me/needs",
    "post",
    {
        "summary": "Tick 'Ditt behov' after a module; ticking a need twice changes nothing",
        "security": [{"bearer": []}],
        "requestBody": json_body(NeedsBody),
        "responses": {
            "200": json_response("The needs ticked now and all ticked for the module"),
            "400": error_response("module_missing, needs_invalid or need_unknown"),
            "401": error_response("unauthorized"),
            "404": error_response("module_unknown or enrolment_not_found"),
        },
    },
)


document(
    "/me/contact-request",
    "post",
    {
        "summary": "Ask the unit that issued the card to get in touch; raises an alert",
        "description": "Needs the relative's consent to be contacted: given before, or "
        "`consent: true` now. Without phone or email the account's address is used.",
        "security": [{"bearer": []}],
        "requestBody": json_body(ContactRequestBody, required=False),
        "responses": {
            "201": json_response("The request is in the unit's follow-up queue"),
            "400": error_response(
                "consent_required, phone_invalid, email_invalid, contact_missing, text_too_long"
            ),
            "401": error_response("unauthorized"),
            "404": error_response("no_enrolment or enrolment_not_found"),
            "429": error_response("too many requests"),
        },
    },
)
