"""API for staff: the follow-up queue, an alert with its contact details, take, contact, close."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.auth import ApiError, staff_token_required
from guide.api.bodies import AlertNoteBody, parse_body
from guide.api.openapi import document, error_response, json_body, json_response, path_parameter
from guide.errors import N_
from guide.extensions import db
from guide.models import Alert, StaffUser
from guide.models.base import utcnow
from guide.services.contact_person import take_case
from guide.services.followup import (
    ACTIVE_STATUSES,
    QUEUE_ROLES,
    STATUSES,
    alert_for_staff,
    close_alert,
    contact_details,
    is_overdue,
    mark_contacted,
    mark_no_answer,
    may_work_queue,
    queue_query,
    time_to_first_contact,
)

LIST_LIMIT = 500
ALERT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "priority": {"type": "string", "enum": ["normal", "urgent"]},
        "source": {
            "type": "string",
            "enum": ["rule", "crisis", "contact_request", "followup"],
        },
        "reason": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "guide": {"type": "string"},
        "unit": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "first_contact_at": {"type": ["string", "null"], "format": "date-time"},
        "seconds_to_first_contact": {"type": ["integer", "null"]},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
        "due_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "when the case is there to work (a follow-up call: its working morning)",
        },
        "target_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "by when staff should have made first contact",
        },
        "overdue": {
            "type": "boolean",
            "description": "no first contact and the target has passed",
        },
        "assigned_to_me": {
            "type": "boolean",
            "description": "the case goes to the caller first (the relative's contact person)",
        },
    },
}


def alert_json(alert: Alert, staff: StaffUser | None = None) -> dict[str, Any]:
    """Return an alert without any personal details."""
    waited = time_to_first_contact(alert)
    now = utcnow()
    return {
        "id": alert.id,
        "priority": alert.priority,
        "source": alert.source,
        "reason": alert.reason,
        "status": alert.status,
        "guide": alert.enrolment.guide_id,
        "unit": alert.enrolment.unit.slug,
        "created_at": alert.created_at.isoformat(),
        "first_contact_at": alert.first_contact_at.isoformat() if alert.first_contact_at else None,
        "seconds_to_first_contact": int(waited.total_seconds()) if waited is not None else None,
        "closed_at": alert.closed_at.isoformat() if alert.closed_at else None,
        "due_at": _iso(alert.due_at or alert.created_at),
        "target_at": _iso(alert.target_at),
        "overdue": is_overdue(alert, now),
        "assigned_to_me": staff is not None and alert.assigned_staff_id == staff.id,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _queue_staff() -> StaffUser:
    staff: StaffUser = g.api_staff
    if not may_work_queue(staff):
        raise ApiError(403, "no_queue", N_("Kontot har ingen uppföljningskö."))
    return staff


def _queue_alert(alert_id: int) -> tuple[StaffUser, Alert]:
    """Return the caller and their alert, refusing staff without a queue."""
    staff = _queue_staff()
    return staff, alert_for_staff(db.session, staff, alert_id)


def _answer_after_action(staff: StaffUser, alert: Alert) -> ResponseReturnValue:
    """Commit what the caller did to the alert and answer with it as it is now."""
    db.session.commit()
    return jsonify(alert_json(alert, staff))


def _note() -> str:
    return parse_body(AlertNoteBody, optional=True).note


@api.get("/alerts")
@staff_token_required(*QUEUE_ROLES)
def list_alerts() -> ResponseReturnValue:
    staff = _queue_staff()
    wanted = request.args.get("status")
    if wanted is None:
        statuses: tuple[str, ...] = ACTIVE_STATUSES
    elif wanted == "all":
        statuses = STATUSES
    elif wanted in STATUSES:
        statuses = (wanted,)
    else:
        raise ApiError(400, "status_invalid", N_("status är open, contacted, closed eller all."))
    alerts = db.session.scalars(queue_query(staff, statuses).limit(LIST_LIMIT)).all()
    return jsonify({"alerts": [alert_json(alert, staff) for alert in alerts]})


document(
    "/alerts",
    "get",
    {
        "summary": "The caller's follow-up queue: urgent first, then the nearest target",
        "description": "Staff see their unit's alerts, organisation admins their "
        "organisation's. The list holds no personal details; GET /alerts/{id} shows "
        "contact details (with the relative's consent) and logs the read.",
        "security": [{"bearer": []}],
        "parameters": [
            {
                "name": "status",
                "in": "query",
                "description": "default: open and contacted",
                "schema": {"type": "string", "enum": [*STATUSES, "all"]},
            }
        ],
        "responses": {
            "200": json_response(
                "Alerts",
                {
                    "type": "object",
                    "properties": {"alerts": {"type": "array", "items": ALERT_SCHEMA}},
                },
            ),
            "401": error_response("unauthorized"),
            "403": error_response("no_queue"),
        },
    },
)


@api.get("/alerts/<int:alert_id>")
@staff_token_required(*QUEUE_ROLES)
def show_alert(alert_id: int) -> ResponseReturnValue:
    staff, alert = _queue_alert(alert_id)
    details = contact_details(db.session, staff, alert, utcnow())
    db.session.commit()  # the audit row of this read
    contact = None
    if details is not None:
        contact = {
            "account_email": details.account_email,
            "phone": details.phone,
            "email": details.contact_email,
            "message": details.message,
            "needs": [{"module": m, "need": n} for m, n in details.needs],
        }
    return jsonify({**alert_json(alert, staff), "contact": contact})


document(
    "/alerts/{alert_id}",
    "get",
    {
        "summary": "One alert; contact details only with the relative's consent, each read logged",
        "security": [{"bearer": []}],
        "parameters": [path_parameter("alert_id")],
        "responses": {
            "200": json_response("The alert; contact is null without consent"),
            "404": error_response("alert_not_found"),
        },
    },
)


def _action_spec(summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [path_parameter("alert_id")],
        "requestBody": json_body(AlertNoteBody, required=False),
        "responses": {
            "200": json_response("The alert as it is now", ALERT_SCHEMA),
            "404": error_response("alert_not_found"),
            "409": error_response("alert_closed"),
        },
    }


@api.post("/alerts/<int:alert_id>/contacted")
@staff_token_required(*QUEUE_ROLES)
def alert_contacted(alert_id: int) -> ResponseReturnValue:
    staff, alert = _queue_alert(alert_id)
    mark_contacted(db.session, staff, alert, _note(), utcnow())
    return _answer_after_action(staff, alert)


document(
    "/alerts/{alert_id}/contacted",
    "post",
    _action_spec("Record that staff reached the relative (the first time sets the waiting time)"),
)


@api.post("/alerts/<int:alert_id>/no-answer")
@staff_token_required(*QUEUE_ROLES)
def alert_no_answer(alert_id: int) -> ResponseReturnValue:
    staff, alert = _queue_alert(alert_id)
    mark_no_answer(db.session, staff, alert, _note(), utcnow())
    return _answer_after_action(staff, alert)


document(
    "/alerts/{alert_id}/no-answer",
    "post",
    _action_spec("Record a try that reached no one: the case stays open, with the note"),
)


@api.post("/alerts/<int:alert_id>/close")
@staff_token_required(*QUEUE_ROLES)
def alert_close(alert_id: int) -> ResponseReturnValue:
    staff, alert = _queue_alert(alert_id)
    close_alert(db.session, staff, alert, _note(), utcnow())
    return _answer_after_action(staff, alert)


document("/alerts/{alert_id}/close", "post", _action_spec("Close an alert"))


@api.post("/alerts/<int:alert_id>/take")
@staff_token_required(*QUEUE_ROLES)
def alert_take(alert_id: int) -> ResponseReturnValue:
    staff, alert = _queue_alert(alert_id)
    take_case(db.session, staff, alert, utcnow())
    return _answer_after_action(staff, alert)


document(
    "/alerts/{alert_id}/take",
    "post",
    {
        "summary": "Take the case: the caller becomes the relative's contact person",
        "description": "The relative's later cases go to the caller first (still visible to "
        "the unit). Only staff of the unit that issued the card can be the contact person.",
        "security": [{"bearer": []}],
        "parameters": [path_parameter("alert_id")],
        "responses": {
            "200": json_response("The alert as it is now", ALERT_SCHEMA),
            "400": error_response("staff_not_in_unit"),
            "404": error_response("alert_not_found"),
            "409": error_response("alert_closed"),
        },
    },
)
