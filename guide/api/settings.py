"""API: Mina inställningar (GET/PATCH /me/settings) and consents (PUT/DELETE /me/consents/<purpose>)."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.auth import relative_token_required
from guide.api.bodies import ConsentWithdrawalBody, EraseBody, SettingsBody, parse_body
from guide.api.openapi import document, error_response, json_body, json_response, path_parameter
from guide.extensions import db
from guide.mail.background import send_after_request
from guide.models import ConsentPurpose, Relative
from guide.models.base import utcnow
from guide.services import settings
from guide.services.privacy import erase_relative


def _settings_of(relative: Relative) -> dict[str, Any]:
    enrolments = settings.relative_enrolments(db.session, relative)
    return {
        "language": relative.language,
        "preferred_hour": enrolments[0].preferred_hour if enrolments else 9,
        "full_text": relative.full_text_email,
        "titles_in_email": relative.titles_in_email,
        "paused": {str(e.id): e.paused_at is not None for e in enrolments},
        "consents": [
            {
                "purpose": c.purpose,
                "text": c.text,
                "granted": c.granted,
                "version": c.version,
                "recorded_at": c.recorded_at.isoformat() if c.recorded_at else None,
            }
            for c in settings.consents_of(relative)
        ],
    }


def _answer_with_saved_settings(relative: Relative) -> ResponseReturnValue:
    """Commit the change and answer with the relative's settings as they are now."""
    db.session.commit()
    return jsonify(_settings_of(relative))


@api.get("/me/settings")
@relative_token_required
def my_settings() -> ResponseReturnValue:
    return jsonify(_settings_of(g.api_relative))


@api.patch("/me/settings")
@relative_token_required
def change_my_settings() -> ResponseReturnValue:
    body = parse_body(SettingsBody, optional=True)
    relative: Relative = g.api_relative
    now = utcnow()
    # Every enrolment named must be the relative's own before anything changes.
    paused = {
        settings.own_enrolment(db.session, relative, int(key)): value
        for key, value in (body.paused or {}).items()
    }
    if body.language is not None:
        settings.set_language(db.session, relative, body.language, now)
    if body.preferred_hour is not None:
        settings.set_preferred_hour(db.session, relative, body.preferred_hour, now)
    if body.full_text is not None:
        settings.set_full_text(db.session, relative, body.full_text, now)
    if body.titles_in_email is not None:
        settings.set_titles_in_email(db.session, relative, body.titles_in_email, now)
    for enrolment, value in paused.items():
        settings.set_paused(db.session, enrolment, value, now)
    return _answer_with_saved_settings(relative)


@api.put("/me/consents/<purpose>")
@relative_token_required
def give_my_consent(purpose: str) -> ResponseReturnValue:
    relative: Relative = g.api_relative
    settings.set_consent(db.session, relative, settings.purpose_of(purpose), True, utcnow())
    return _answer_with_saved_settings(relative)


@api.delete("/me/consents/<purpose>")
@relative_token_required
def withdraw_my_consent(purpose: str) -> ResponseReturnValue:
    """Withdraw a consent; withdrawing the service itself is erasure, and must be confirmed."""
    relative: Relative = g.api_relative
    chosen = settings.purpose_of(purpose)
    body = parse_body(ConsentWithdrawalBody, optional=True)
    if chosen == ConsentPurpose.SERVICE:
        if body.confirm is not True:
            parse_body(EraseBody)  # says what is missing
        erasure = erase_relative(db.session, relative, utcnow())
        db.session.commit()
        send_after_request(erasure.confirmation)
        return "", 204
    settings.set_consent(db.session, relative, chosen, False, utcnow())
    return _answer_with_saved_settings(relative)


SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "language": {"type": "string", "enum": ["sv", "en"]},
        "preferred_hour": {"type": "integer", "minimum": 8, "maximum": 20},
        "full_text": {"type": "boolean", "description": "whole modules in e-mail"},
        "titles_in_email": {"type": "boolean", "description": "a sensitive guide named in mail"},
        "paused": {
            "type": "object",
            "description": "enrolment id -> paused",
            "additionalProperties": {"type": "boolean"},
        },
        "consents": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "purpose": {"type": "string", "enum": [p.value for p in ConsentPurpose]},
                    "text": {"type": "string", "description": "the wording"},
                    "granted": {"type": "boolean"},
                    "version": {"type": ["string", "null"]},
                    "recorded_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
        },
    },
}
PURPOSE = path_parameter("purpose", {"type": "string", "enum": [p.value for p in ConsentPurpose]})

document(
    "/me/settings",
    "get",
    {
        "summary": "The relative's settings and consents",
        "security": [{"bearer": []}],
        "responses": {"200": json_response("The settings", SETTINGS_SCHEMA)},
    },
)
document(
    "/me/settings",
    "patch",
    {
        "summary": "Change language, preferred hour, full text, titles, or pause per enrolment",
        "description": "Only the fields given change; every change is an event. Resuming "
        "an enrolment makes what fell due meanwhile arrive as one mail.",
        "security": [{"bearer": []}],
        "requestBody": json_body(SettingsBody, required=False),
        "responses": {
            "200": json_response("The settings now", SETTINGS_SCHEMA),
            "404": error_response("enrolment_not_found: an enrolment in paused is not yours"),
        },
    },
)
document(
    "/me/consents/{purpose}",
    "put",
    {
        "summary": "Give a consent, recorded with today's wording version",
        "security": [{"bearer": []}],
        "parameters": [PURPOSE],
        "responses": {"200": json_response("The settings now", SETTINGS_SCHEMA)},
    },
)
document(
    "/me/consents/{purpose}",
    "delete",
    {
        "summary": "Withdraw a consent; withdrawing service erases the account",
        "description": "contact: staff stop seeing the contact details at once. "
        "statistics: the relative leaves every figure. service: the account is erased "
        'as by DELETE /me, and the body must be {"confirm": true}.',
        "security": [{"bearer": []}],
        "parameters": [PURPOSE],
        "requestBody": json_body(ConsentWithdrawalBody, required=False),
        "responses": {
            "200": json_response("The settings now", SETTINGS_SCHEMA),
            "204": {"description": "service withdrawn: the account is erased"},
        },
    },
)
