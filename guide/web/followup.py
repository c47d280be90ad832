"""Staff pages for the follow-up queue: list, open an alert, mark contacted, close."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.extensions import db
from guide.models import Alert, StaffRole, StaffUser
from guide.models.base import utcnow
from guide.services.followup import (
    ACTIVE_STATUSES,
    CLOSED,
    alert_for_staff,
    close_alert,
    contact_details,
    mark_contacted,
    queue_query,
    time_to_first_contact,
)
from guide.services.library import current_library
from guide.services.needs import need_text
from guide.web.errors import back_to
from guide.web.sessions import staff_required

bp = Blueprint("followup", __name__, url_prefix="/personal/uppfoljning")
QUEUE_LIMIT = 500


def _own_alert(alert_id: int) -> Alert:
    return alert_for_staff(db.session, g.staff, alert_id)


@bp.get("/")
@staff_required(StaffRole.STAFF, StaffRole.ORG_ADMIN)
def queue() -> ResponseReturnValue:
    """List the alerts to follow up, urgent first and then the oldest."""
    staff: StaffUser = g.staff
    show_closed = request.args.get("visa") == "stangda"
    statuses = (CLOSED,) if show_closed else ACTIVE_STATUSES
    alerts = db.session.scalars(queue_query(staff, statuses).limit(QUEUE_LIMIT)).all()
    return render_template(
        "staff/followup_queue.html",
        alerts=alerts,
        show_closed=show_closed,
        guides=current_library().guides,
    )


@bp.get("/<int:alert_id>")
@staff_required(StaffRole.STAFF, StaffRole.ORG_ADMIN)
def alert(alert_id: int) -> ResponseReturnValue:
    """Show one alert; contact details only with consent, and the read is logged."""
    found = _own_alert(alert_id)
    details = contact_details(db.session, g.staff, found, utcnow())
    db.session.commit()  # the audit row of this read
    library = current_library()
    guide = library.guides.get(found.enrolment.guide_id)
    needs = []
    if details is not None and guide is not None:
        needs = [need_text(guide, module_id, need_id, "sv") for module_id, need_id in details.needs]
    return render_template(
        "staff/followup_alert.html",
        alert=found,
        details=details,
        needs=needs,
        guide=guide,
        waited=time_to_first_contact(found),
    )


@bp.post("/<int:alert_id>/kontaktad")
@staff_required(StaffRole.STAFF, StaffRole.ORG_ADMIN)
def contacted(alert_id: int) -> ResponseReturnValue:
    """Record that staff reached the relative, with a note."""
    found = _own_alert(alert_id)
    back_to(url_for(".alert", alert_id=found.id))
    mark_contacted(db.session, g.staff, found, request.form.get("note", ""), utcnow())
    db.session.commit()
    flash(_("Ärendet är markerat som kontaktat."), "success")
    return redirect(url_for(".alert", alert_id=found.id))


@bp.post("/<int:alert_id>/stang")
@staff_required(StaffRole.STAFF, StaffRole.ORG_ADMIN)
def close(alert_id: int) -> ResponseReturnValue:
    """Close the alert and go back to the queue."""
    found = _own_alert(alert_id)
    back_to(url_for(".alert", alert_id=found.id))
    close_alert(db.session, g.staff, found, request.form.get("note", ""), utcnow())
    db.session.commit()
    flash(_("Ärendet är stängt."), "success")
    return redirect(url_for(".queue"))
