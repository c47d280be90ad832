"""API for organisation admins: the local facts, and setting one for the organisation or a unit."""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from guide.api import api
from guide.api.auth import ApiError, staff_token_required
from guide.api.bodies import LocalFactBody, parse_body
from guide.api.openapi import document, error_response, json_body, json_response, path_parameter
from guide.errors import N_
from guide.extensions import db
from guide.models import Organisation, StaffRole, StaffUser, Unit
from guide.models.base import utcnow
from guide.services.library import current_library
from guide.services.local_facts import LocalFactError, fact_catalogue, set_local_fact


def _organisation(staff: StaffUser) -> Organisation:
    if staff.organisation is None:
        raise ApiError(
            403, "organisation_required", N_("Ditt konto hör inte till någon organisation.")
        )
    return staff.organisation


@api.get("/local-facts")
@staff_token_required(StaffRole.ORG_ADMIN)
def list_local_facts() -> ResponseReturnValue:
    organisation = _organisation(g.api_staff)
    units = {
        unit.id: unit.slug
        for unit in db.session.scalars(select(Unit).where(Unit.organisation_id == organisation.id))
    }
    facts = [
        {
            "key": entry.fact.key,
            "description": entry.fact.description,
            "fallback": entry.fact.fallback,
            "value": entry.value or None,
            "units": {units[unit_id]: value for unit_id, value in entry.overrides.items()},
            "modules": [f"{use.guide_id}/{use.module.id}" for use in entry.uses],
        }
        for group in fact_catalogue(db.session, current_library(), organisation.id)
        for entry in group.entries
    ]
    return jsonify({"facts": sorted(facts, key=lambda fact: str(fact["key"]))})


document(
    "/local-facts",
    "get",
    {
        "summary": "Every declared local fact with the organisation's value and units' overrides",
        "security": [{"bearer": []}],
        "responses": {
            "200": json_response("The facts, by key"),
            "403": error_response("not an organisation admin"),
        },
    },
)


@api.put("/local-facts/<key>")
@staff_token_required(StaffRole.ORG_ADMIN)
def put_local_fact(key: str) -> ResponseReturnValue:
    """Set a local fact's value (plain text) for the organisation, or for one of its units."""
    staff: StaffUser = g.api_staff
    organisation = _organisation(staff)
    library = current_library()
    if key not in library.local_facts:
        raise LocalFactError.unknown(key)
    body = parse_body(LocalFactBody)
    unit = None
    if body.unit is not None:
        unit = db.session.scalar(
            select(Unit).where(Unit.organisation_id == organisation.id, Unit.slug == body.unit)
        )
        if unit is None:
            raise LocalFactError.unit_unknown(body.unit)
    row = set_local_fact(db.session, library, organisation, key, body.value, utcnow(), staff, unit)
    db.session.commit()
    return jsonify(
        {"key": key, "unit": unit.slug if unit else None, "value": row.value if row else None}
    )


document(
    "/local-facts/{key}",
    "put",
    {
        "summary": "Set a local fact for the organisation or (unit) one unit; empty clears it",
        "security": [{"bearer": []}],
        "parameters": [path_parameter("key", {"type": "string"})],
        "requestBody": json_body(LocalFactBody),
        "responses": {
            "200": json_response("The value now stored (null: cleared)"),
            "403": error_response("not an organisation admin"),
            "404": error_response("local_fact_unknown or unit_unknown"),
        },
    },
)
