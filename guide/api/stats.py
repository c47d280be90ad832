"""API for statistics: the same suppressed numbers as the page, small counts as "<5"."""

from __future__ import annotations

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.auth import ApiError, staff_token_required
from guide.api.openapi import document, error_response, json_response
from guide.errors import N_
from guide.extensions import db
from guide.models import StaffRole, StaffUser
from guide.models.base import utcnow
from guide.services.admin import units_of
from guide.services.cards import local_today
from guide.services.library import current_library
from guide.services.stats import Period, compute_statistics, stats_scope
from guide.suppression import HIDDEN_MARK, SMALL_MARK


@api.get("/stats")
@staff_token_required(StaffRole.STAFF, StaffRole.ORG_ADMIN)
def get_stats() -> ResponseReturnValue:
    staff: StaffUser = g.api_staff
    if staff.organisation_id is None:
        raise ApiError(403, "stats_forbidden", N_("Ditt konto hör inte till någon organisation."))
    units = list(units_of(db.session, staff.organisation_id))
    slug = request.args.get("unit")
    unit_id = None
    if slug:
        unit = next((u for u in units if u.slug == slug), None)
        if unit is None:
            raise ApiError(404, "unit_unknown", N_("Enheten finns inte bland dina enheter."))
        unit_id = unit.id
    scope = stats_scope(staff, unit_id, units)
    period = Period.parse(request.args.get("from"), request.args.get("to"), local_today(utcnow()))
    stats = compute_statistics(db.session, current_library(), scope, period, units)
    by_id = {u.id: u.slug for u in units}
    return jsonify(
        {
            "period": {
                "from": f"{period.first[0]}-{period.first[1]:02d}",
                "to": f"{period.last[0]}-{period.last[1]:02d}",
            },
            "unit": by_id.get(scope.unit_id) if scope.unit_id else None,
            "marks": {"small": SMALL_MARK, "hidden": HIDDEN_MARK},
            "headlines": [
                {
                    "label": h.label,
                    "value": h.current.json(),
                    "previous": h.previous.json(),
                    "change": h.change,
                }
                for h in stats.headlines
            ],
            "activation_rate": stats.activation_rate,
            "median_days_to_activation": stats.median_days_to_activation,
            "median_hours_to_contact": stats.median_hours_to_contact,
            "tables": {table.id: table.json() for table in stats.tables},
        }
    )


document(
    "/stats",
    "get",
    {
        "summary": 'Statistics for a period of whole months; counts 1-4 as "<5", '
        'complementary suppressed cells as "dolt"; staff get their own unit',
        "security": [{"bearer": []}],
        "parameters": [
            {"name": "from", "in": "query", "schema": {"type": "string", "example": "2026-01"}},
            {"name": "to", "in": "query", "schema": {"type": "string", "example": "2026-12"}},
            {"name": "unit", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {
            "200": json_response("The suppressed tables"),
            "403": error_response("stats_forbidden"),
            "404": error_response("unit_unknown"),
        },
    },
)
