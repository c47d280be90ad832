"""The statistics page: tables with small numbers protected, charts beside them, CSV export."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.extensions import db
from guide.models import StaffRole, StaffUser
from guide.models.base import utcnow
from guide.security import MAX_DATABASE_ID
from guide.services.admin import units_of
from guide.services.cards import local_today
from guide.services.library import current_library
from guide.services.stats import Period, Statistics, compute_statistics, stats_scope
from guide.suppression import HIDDEN_MARK, SMALL_MARK
from guide.web.sessions import staff_required

bp = Blueprint("stats", __name__, url_prefix="/admin/statistik")

STATS_ROLES = (StaffRole.STAFF, StaffRole.ORG_ADMIN)


def _statistics() -> tuple[Statistics, list[object]]:
    staff: StaffUser = g.staff
    if staff.organisation_id is None:
        abort(403, _("Ditt konto hör inte till någon organisation."))
    units = list(units_of(db.session, staff.organisation_id))
    unit_id = request.args.get("enhet", type=int)
    if unit_id is not None and not 1 <= unit_id <= MAX_DATABASE_ID:
        unit_id = None
    scope = stats_scope(staff, unit_id, units)
    period = Period.parse(request.args.get("fran"), request.args.get("till"), local_today(utcnow()))
    return compute_statistics(db.session, current_library(), scope, period, units), units  # type: ignore[return-value]


@bp.get("/")
@staff_required(*STATS_ROLES)
def index() -> ResponseReturnValue:
    """Show the period's tables; unit staff see their unit, admins any unit or all."""
    statistics, units = _statistics()
    response = Response(
        render_template(
            "admin/stats.html",
            stats=statistics,
            units=units if g.staff.role != StaffRole.STAFF else [],
            small_mark=SMALL_MARK,
            hidden_mark=HIDDEN_MARK,
            fran=request.args.get("fran", ""),
            till=request.args.get("till", ""),
            ork_rows=lambda table: [
                (label, [c.value for c in cells]) for label, cells, _total in table.rows()
            ],
            needs_items=lambda table: [
                (label, cells[0].value) for label, cells, _total in table.rows()
            ],
        )
    )
    return response


@bp.get("/statistik.csv")
@staff_required(*STATS_ROLES)
def csv_export() -> ResponseReturnValue:
    """Every table as one CSV file, with exactly the suppression the page shows."""
    statistics, _units = _statistics()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([_("Period"), statistics.period.label()])
    for table in statistics.tables:
        writer.writerow([])
        writer.writerow([table.title])
        has_totals = bool(table.numbers.row_totals)
        writer.writerow(["", *table.column_labels, *([_("Summa")] if has_totals else [])])
        for label, cells, total in table.rows():
            writer.writerow([label, *(c.text() for c in cells), *([total.text()] if total else [])])
        if table.numbers.column_totals:
            grand = table.numbers.grand_total
            writer.writerow(
                [
                    _("Summa"),
                    *(c.text() for c in table.numbers.column_totals),
                    *([grand.text()] if has_totals and grand else []),
                ]
            )
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=lots-statistik.csv"},
    )
