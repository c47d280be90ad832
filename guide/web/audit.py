"""Granskning: the organisation admin's view of staff reads of relatives' contact details."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.extensions import db
from guide.models import StaffRole, Unit
from guide.services.audit import audit_entries
from guide.web.sessions import staff_required

bp = Blueprint("audit", __name__, url_prefix="/admin/granskning")
SHOWN = 500


@bp.get("/")
@staff_required(StaffRole.ORG_ADMIN)
def index() -> ResponseReturnValue:
    """List who read contact details, when, and in which alert (newest first)."""
    staff = g.staff
    if staff.organisation_id is None and staff.role != StaffRole.ADMIN:
        abort(403, _("Ditt konto hör inte till någon organisation."))
    entries = audit_entries(db.session, staff.organisation_id, SHOWN)
    units = {u.id: u.name for u in db.session.query(Unit).all()}
    return render_template("admin/audit.html", entries=entries, units=units, shown=SHOWN)
