"""API for staff: issue a batch of cards and list the organisation's cards."""

from __future__ import annotations

from datetime import date

from flask import g, jsonify, request
from sqlalchemy import select

from guide.api import api
from guide.api.auth import ApiError, staff_token_required
from guide.api.openapi import document, error_response, json_body, json_response
from guide.cards import BatchRequest, CardError, cards_query, issue_batch, local_today
from guide.content.library import current_library
from guide.extensions import db
from guide.models import Card, CardStatus, StaffUser, Unit
from guide.models.base import utcnow

LIST_LIMIT = 500


def _unit_for(staff: StaffUser, slug: str) -> Unit:
    unit = db.session.scalar(
        select(Unit).where(Unit.organisation_id == staff.organisation_id, Unit.slug == slug)
    )
    if unit is None:
        raise ApiError(404, "unit_unknown", f"Din organisation har ingen enhet '{slug}'.")
    if staff.role == "staff" and staff.unit_id != unit.id:
        raise ApiError(403, "unit_forbidden", "Du kan bara skapa kort för din egen enhet.")
    return unit


def card_json(card: Card, today: date) -> dict[str, object]:
    return {
        "id": card.id,
        "code": card.code,
        "guide": card.guide_id,
        "unit": card.unit.slug,
        "batch": card.batch_id,
        "phase": card.start_phase,
        "status": card.status_on(today).value,
        "expires": card.expires_on.isoformat() if card.expires_on else None,
        "created_at": card.created_at.isoformat(),
        "activated_at": card.activated_at.isoformat() if card.activated_at else None,
    }


@api.post("/cards")
@staff_token_required()
def create_cards():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "Send a JSON body with unit, guide and count.")
    staff: StaffUser = g.api_staff
    unit = _unit_for(staff, str(body.get("unit") or ""))
    guide = current_library().guides.get(str(body.get("guide") or ""))
    if guide is None:
        raise ApiError(400, "guide_unknown", "Det finns ingen sådan guide.")
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool):
        raise ApiError(400, "count_invalid", "count är ett heltal mellan 1 och 10000.")
    expires = None
    if body.get("expires"):
        try:
            expires = date.fromisoformat(str(body["expires"]))
        except ValueError:
            raise ApiError(400, "expires_invalid", "expires skrivs ÅÅÅÅ-MM-DD.") from None
    now = utcnow()
    try:
        batch = issue_batch(
            db.session, BatchRequest(unit, guide, count, body.get("phase"), expires), now, staff
        )
    except CardError as error:
        raise ApiError(400, "batch_invalid", str(error)) from None
    db.session.commit()
    cards = db.session.scalars(
        select(Card).where(Card.batch_id == batch.id).order_by(Card.id)
    ).all()
    today = local_today(now)
    return jsonify(
        {"batch": batch.id, "count": len(cards), "cards": [card_json(c, today) for c in cards]}
    ), 201


document(
    "/cards",
    "post",
    {
        "summary": "Issue a batch of activation cards for one of the caller's units",
        "security": [{"bearer": []}],
        "requestBody": json_body(
            {
                "type": "object",
                "required": ["unit", "guide", "count"],
                "properties": {
                    "unit": {"type": "string", "description": "unit slug"},
                    "guide": {"type": "string"},
                    "count": {"type": "integer", "minimum": 1, "maximum": 10000},
                    "phase": {"type": "string"},
                    "expires": {"type": "string", "format": "date"},
                },
            }
        ),
        "responses": {
            "201": json_response("The batch and its cards"),
            "400": error_response("invalid request"),
            "403": error_response("unit_forbidden"),
        },
    },
)


@api.get("/cards")
@staff_token_required()
def list_cards():  # type: ignore[no-untyped-def]
    staff: StaffUser = g.api_staff
    if staff.organisation_id is None:
        raise ApiError(403, "no_organisation", "The account belongs to no organisation.")
    status_value = request.args.get("status")
    status = None
    if status_value:
        try:
            status = CardStatus(status_value)
        except ValueError:
            raise ApiError(
                400, "status_invalid", "status is new, activated, expired or revoked."
            ) from None
    today = local_today(utcnow())
    query = cards_query(
        staff.organisation_id,
        status,
        guide_id=request.args.get("guide") or None,
        batch_id=request.args.get("batch", type=int),
        today=today,
    )
    cards = db.session.scalars(query.limit(LIST_LIMIT)).all()
    return jsonify({"cards": [card_json(c, today) for c in cards]})


document(
    "/cards",
    "get",
    {
        "summary": "Cards of the caller's organisation, newest first (status, guide, batch filters)",
        "security": [{"bearer": []}],
        "parameters": [
            {
                "name": "status",
                "in": "query",
                "schema": {"type": "string", "enum": [s.value for s in CardStatus]},
            },
            {"name": "guide", "in": "query", "schema": {"type": "string"}},
            {"name": "batch", "in": "query", "schema": {"type": "integer"}},
        ],
        "responses": {"200": json_response("Cards")},
    },
)
