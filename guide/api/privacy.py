"""API: the relative's own data: everything stored, as JSON (GET /me/export), and erasure (DELETE /me)."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.auth import relative_token_required
from guide.api.bodies import EraseBody, parse_body
from guide.api.openapi import document, error_response, json_body, json_response
from guide.extensions import db
from guide.mail.background import send_after_request
from guide.models.base import utcnow
from guide.services.privacy import erase_relative, export_relative


@api.get("/me/export")
@relative_token_required
def export_me() -> ResponseReturnValue:
    response = jsonify(export_relative(db.session, g.api_relative))
    response.headers["Content-Disposition"] = 'attachment; filename="lots-mina-uppgifter.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@api.delete("/me")
@relative_token_required
def erase_me() -> ResponseReturnValue:
    parse_body(EraseBody)
    erasure = erase_relative(db.session, g.api_relative, utcnow())
    db.session.commit()
    send_after_request(erasure.confirmation)
    return "", 204


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _text_or_null(description: str) -> dict[str, Any]:
    return {"type": ["string", "null"], "description": description}


def _integer(description: str) -> dict[str, Any]:
    return {"type": "integer", "description": description}


def _boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def _map(description: str) -> dict[str, Any]:
    return {"type": "object", "description": description}


def _time(description: str) -> dict[str, Any]:
    return {"type": ["string", "null"], "format": "date-time", "description": description}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": sorted(properties),
    }


def _list(items: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": items}


EXPORT_SCHEMA = _object(
    {
        "format": _text("lots-export-1: the version of this layout"),
        "account": _object(
            {
                "id": _integer("the account's number"),
                "email": _text_or_null("the e-mail address mail goes to"),
                "language": _text("sv or en"),
                "full_text_email": _boolean("whole modules in e-mail"),
                "titles_in_email": _boolean("a sensitive guide's titles named in e-mail"),
                "created_at": _time("when the account was made"),
                "email_proved_at": _time("when a link mailed to the address was first used"),
                "last_login_at": _time("the last login"),
                "email_paused_at": _time("when e-mail stopped (unsubscribed or bounced)"),
                "email_pause_reason": _text_or_null("why e-mail stopped"),
            },
            "the account",
        ),
        "consents": _list(
            _object(
                {
                    "purpose": _text("service, contact or statistics"),
                    "granted": _boolean("given (true) or withdrawn"),
                    "version": _text("the wording version answered"),
                    "recorded_at": _time("when it was answered"),
                }
            ),
            "every answer to a consent question, oldest first",
        ),
        "enrolments": _list(
            _object(
                {
                    "id": _integer("the enrolment's number"),
                    "guide": _text("the guide's id"),
                    "organisation": _text("who issued the card"),
                    "unit": _text("the unit that issued the card"),
                    "activated_at": _time("when the card was redeemed"),
                    "status": _text("active, or erased"),
                    "paused_at": _time("since when it is paused, if it is"),
                    "timezone": _text("the relative's time zone"),
                    "preferred_hour": _integer("hour of mail, 8–20"),
                    "profile": _map("answers given at the card"),
                    "answers": _map("latest check-in answers"),
                    "phases": _list(
                        _object(
                            {
                                "phase": _text("the phase's id"),
                                "started_at": _time("when it began"),
                                "reason": _text("why it began"),
                            }
                        ),
                        "the phases the journey went through",
                    ),
                    "releases": _list(
                        _object(
                            {
                                "module": _text("the module's id"),
                                "title": _text("its title"),
                                "released_at": _time("when it was released"),
                                "reason": _text("why it came"),
                                "read_at": _time("when it was first opened"),
                            }
                        ),
                        "modules released, and what was read",
                    ),
                    "checkins": _list(
                        _object(
                            {
                                "checkin": _text("the check-in's id"),
                                "due_at": _time("when it fell due"),
                                "opened_at": _time("when it was opened"),
                                "answered_at": _time("when it was answered"),
                                "expired_at": _time("when a newer one replaced it"),
                                "answers": {
                                    "type": ["object", "null"],
                                    "description": "question id -> answer",
                                },
                            }
                        ),
                        "every check-in and its answers",
                    ),
                    "needs": _list(
                        _object(
                            {
                                "module": _text("after which module"),
                                "need": _text("the need's id"),
                                "ticked_at": _time("when it was ticked"),
                            }
                        ),
                        "needs ticked",
                    ),
                    "alerts": _list(
                        _object(
                            {
                                "created_at": _time("when staff were alerted"),
                                "source": _text("rule, crisis or contact_request"),
                                "priority": _text("normal or urgent"),
                                "reason": _text("what staff saw"),
                                "status": _text("open, contacted, closed"),
                                "phone": _text_or_null("phone given"),
                                "contact_email": _text_or_null("address given"),
                                "message": _text_or_null("the message written"),
                                "first_contact_at": _time("when staff first reached the relative"),
                                "closed_at": _time("when it was closed"),
                                "notes": _list(
                                    _object(
                                        {
                                            "action": _text("contacted, note or closed"),
                                            "note": _text("what staff wrote"),
                                            "at": _time("when"),
                                        }
                                    ),
                                    "staff's notes",
                                ),
                            }
                        ),
                        "contact requests and alerts about the relative",
                    ),
                    "followup_calls": _list(
                        _object(
                            {
                                "followup": _text("the call's id"),
                                "outcome": _text("case, offered, accepted, declined or missed"),
                                "due_at": _time("when the call fell due"),
                                "target_at": _time("when staff were to have called"),
                                "created_at": _time("when it was handled"),
                            }
                        ),
                        "follow-up calls the guide scheduled for the relative",
                    ),
                    "contact_person": _text_or_null(
                        "the named staff member the relative may turn to"
                    ),
                    "events": _list(
                        _object(
                            {
                                "kind": _text("what happened"),
                                "at": _time("when"),
                                "data": _map("its details"),
                            }
                        ),
                        "everything that happened in the journey",
                    ),
                }
            ),
            "each guide the relative has, with everything in it",
        ),
        "mails": _list(
            _object(
                {
                    "kind": _text("welcome, login, notice, ..."),
                    "subject": _text("its subject line"),
                    "status": _text("sent, pending, failed, ..."),
                    "created_at": _time("when it was queued"),
                    "sent_at": _time("when it was sent"),
                }
            ),
            "mails to the relative",
        ),
    },
    "Everything stored about the relative (GDPR Art. 15 and 20)",
)

document(
    "/me/export",
    "get",
    {
        "summary": "Everything stored about the relative, as one JSON document",
        "security": [{"bearer": []}],
        "responses": {"200": json_response("The relative's data", EXPORT_SCHEMA)},
    },
)

document(
    "/me",
    "delete",
    {
        "summary": "Erase the account: personal data goes from every table; one mail confirms it",
        "description": "Keeps only anonymous facts (counts, that an alert existed and when "
        "it was handled). Unsent mail is cancelled; the confirming mail's outbox row "
        "forgets the address once sent. Cannot be undone.",
        "security": [{"bearer": []}],
        "requestBody": json_body(EraseBody),
        "responses": {
            "204": {"description": "Erased; the token stops at once"},
            "400": error_response("confirm_missing or confirm_invalid"),
        },
    },
)
