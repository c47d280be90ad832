"""API for staff: issue a batch of cards, list and revoke the cards of the caller's unit."""

from __future__ import annotations

from datetime import date

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from guide.api import api
from guide.api.auth import ApiError, staff_token_required
from guide.api.bodies import CardBatchBody, parse_body, query_id
from guide.api.openapi import document, error_response, json_body, json_response, path_parameter
from guide.errors import N_
from guide.extensions import db
from guide.models import Card, CardStatus, StaffRole, StaffUser, Unit
from guide.models.base import utcnow
from guide.services.cards import (
    BatchRequest,
    CardFilter,
    CardScope,
    card_scope,
    issue_batch,
    local_today,
    revoke_card,
    scoped_cards_query,
)
from guide.services.library import current_library

LIST_LIMIT = 500


def _scope(staff: StaffUser) -> CardScope:
    scope = card_scope(staff)
    if scope is None:
        raise ApiError(403, "cards_forbidden", N_("Ditt konto kan inte skapa eller se kort."))
    return scope


def _unit_for(staff: StaffUser, slug: str) -> Unit:
    scope = _scope(staff)
    unit = db.session.scalar(
        select(Unit).where(Unit.organisation_id == scope.organisation_id, Unit.slug == slug)
    )
    if unit is None:
        raise ApiError(
            404, "unit_unknown", N_("Din organisation har ingen enhet '%(unit)s'.", unit=slug)
        )
    if not scope.holds(unit.organisation_id, unit.id):
        raise ApiError(403, "unit_forbidden", N_("Du kan bara skapa kort för din egen enhet."))
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
@staff_token_required(StaffRole.STAFF, StaffRole.ORG_ADMIN)
def create_cards() -> ResponseReturnValue:
    staff: StaffUser = g.api_staff
    _scope(staff)  # who may, before what they sent
    body = parse_body(CardBatchBody)
    unit = _unit_for(staff, body.unit)
    guide = current_library().guides.get(body.guide)
    if guide is None:
        raise ApiError(400, "guide_unknown", N_("Det finns ingen sådan guide."), field="guide")
    expires = None
    if body.expires:
        try:
            expires = date.fromisoformat(body.expires)
        except ValueError:
            raise ApiError(
                400, "expires_invalid", N_("expires skrivs ÅÅÅÅ-MM-DD."), field="expires"
            ) from None
    now = utcnow()
    batch = issue_batch(
        db.session, BatchRequest(unit, guide, body.count, body.phase, expires), now, staff
    )
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
        "requestBody": json_body(CardBatchBody),
        "responses": {
            "201": json_response("The batch and its cards"),
            "400": error_response("invalid request"),
            "401": error_response("unauthorized"),
            "403": error_response("unit_forbidden or cards_forbidden (an editor)"),
            "404": error_response("unit_unknown"),
        },
    },
)


@api.get("/cards")
@staff_token_required(StaffRole.STAFF, StaffRole.ORG_ADMIN)
def list_cards() -> ResponseReturnValue:
    scope = _scope(g.api_staff)
    status_value = request.args.get("status")
    status = None
    if status_value is not None:
        try:
            status = CardStatus(status_value)
        except ValueError:
            raise ApiError(
                400, "status_invalid", N_("status är new, activated, expired eller revoked.")
            ) from None
    today = local_today(utcnow())
    query = scoped_cards_query(
        scope,
        CardFilter(
            status,
            guide_id=request.args.get("guide") or None,
            batch_id=query_id("batch"),
            today=today,
        ),
    )
    cards = db.session.scalars(query.limit(LIST_LIMIT)).all()
    return jsonify({"cards": [card_json(c, today) for c in cards]})


document(
    "/cards",
    "get",
    {
        "summary": "Cards of the caller's unit (organisation admins: organisation), newest first",
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
        "responses": {
            "200": json_response("Cards"),
            "400": error_response("status_invalid or batch_invalid"),
            "401": error_response("unauthorized"),
            "403": error_response("cards_forbidden (an editor)"),
        },
    },
)


@api.post("/cards/<int:card_id>/revoke")
@staff_token_required(StaffRole.STAFF, StaffRole.ORG_ADMIN)
def revoke_one_card(card_id: int) -> ResponseReturnValue:
    """Revoke an unused card of the caller's unit (organisation admins: organisation)."""
    scope = _scope(g.api_staff)
    card = db.session.get(Card, card_id)
    if card is None or not scope.holds(card.organisation_id, card.unit_id):
        raise ApiError(404, "card_not_found", N_("Kortet finns inte bland dina kort."))
    now = utcnow()
    revoke_card(db.session, card, now)
    db.session.commit()
    return jsonify(card_json(card, local_today(now)))


document(
    "/cards/{card_id}/revoke",
    "post",
    {
        "summary": "Revoke an unused card of the caller's unit (organisation admins: organisation)",
        "security": [{"bearer": []}],
        "parameters": [path_parameter("card_id")],
        "responses": {
            "200": json_response("The card, now revoked"),
            "401": error_response("unauthorized"),
            "403": error_response("cards_forbidden (an editor)"),
            "404": error_response("card_not_found"),
            "409": error_response("card_used"),
        },
    },
)
