"""Staff pages for the follow-up queue: list, open, take, contacted, no answer, close; profile."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.extensions import db
from guide.models import Alert, StaffUser
from guide.models.base import utcnow
from guide.services.contact_person import (
    ProfileError,
    colleagues_for,
    contact_person_of,
    profile_of,
    save_profile,
    set_contact_person,
    take_case,
)
from guide.services.followup import (
    ACTIVE_STATUSES,
    CLOSED,
    QUEUE_ROLES,
    alert_for_staff,
    close_alert,
    contact_details,
    is_overdue,
    mark_contacted,
    mark_no_answer,
    queue_query,
    time_to_first_contact,
)
from guide.services.library import current_library
from guide.services.needs import need_text
from guide.web.errors import back_to
from guide.web.forms import FieldErrors, finish_post
from guide.web.sessions import staff_required

bp = Blueprint("followup", __name__, url_prefix="/personal/uppfoljning")
QUEUE_LIMIT = 500


def _own_alert(alert_id: int) -> Alert:
    return alert_for_staff(db.session, g.staff, alert_id)


def _page_of(alert: Alert) -> str:
    return url_for(".alert", alert_id=alert.id)


def _alert_to_act_on(alert_id: int) -> Alert:
    """Find the staff member's alert; a domain error of this post is flashed on its page."""
    found = _own_alert(alert_id)
    back_to(_page_of(found))
    return found


def _note() -> str:
    return request.form.get("note", "")


@bp.get("/")
@staff_required(*QUEUE_ROLES)
def queue() -> ResponseReturnValue:
    """List the cases to follow up: urgent first, then the nearest target."""
    staff: StaffUser = g.staff
    show_closed = request.args.get("visa") == "stangda"
    mine = request.args.get("visa") == "mina"
    statuses = (CLOSED,) if show_closed else ACTIVE_STATUSES
    query = queue_query(staff, statuses)
    if mine:
        query = query.where(Alert.assigned_staff_id == staff.id)
    alerts = db.session.scalars(query.limit(QUEUE_LIMIT)).all()
    now = utcnow()
    return render_template(
        "staff/followup_queue.html",
        alerts=alerts,
        overdue={a.id for a in alerts if is_overdue(a, now)},
        show_closed=show_closed,
        mine=mine,
        guides=current_library().guides,
    )


@bp.get("/<int:alert_id>")
@staff_required(*QUEUE_ROLES)
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
        overdue=is_overdue(found, utcnow()),
        contact_person=contact_person_of(db.session, found.enrolment),
        colleagues=colleagues_for(db.session, found.enrolment),
    )


@bp.post("/<int:alert_id>/kontaktad")
@staff_required(*QUEUE_ROLES)
def contacted(alert_id: int) -> ResponseReturnValue:
    """Record that staff reached the relative, with a note."""
    found = _alert_to_act_on(alert_id)
    mark_contacted(db.session, g.staff, found, _note(), utcnow())
    return finish_post(_("Ärendet är markerat som kontaktat."), _page_of(found))


@bp.post("/<int:alert_id>/stang")
@staff_required(*QUEUE_ROLES)
def close(alert_id: int) -> ResponseReturnValue:
    """Close the alert and go back to the queue."""
    found = _alert_to_act_on(alert_id)
    close_alert(db.session, g.staff, found, _note(), utcnow())
    return finish_post(_("Ärendet är stängt."), url_for(".queue"))


@bp.post("/<int:alert_id>/inget-svar")
@staff_required(*QUEUE_ROLES)
def no_answer(alert_id: int) -> ResponseReturnValue:
    """Record a call nobody answered: the case stays open, with the note."""
    found = _alert_to_act_on(alert_id)
    mark_no_answer(db.session, g.staff, found, _note(), utcnow())
    return finish_post(_("Försöket är antecknat. Ärendet är kvar i kön."), _page_of(found))


@bp.post("/<int:alert_id>/ta")
@staff_required(*QUEUE_ROLES)
def take(alert_id: int) -> ResponseReturnValue:
    """Take the case: the caller becomes the relative's contact person."""
    found = _alert_to_act_on(alert_id)
    take_case(db.session, g.staff, found, utcnow())
    return finish_post(
        _("Du har tagit ärendet och är nu den anhöriges kontaktperson."), _page_of(found)
    )


@bp.post("/<int:alert_id>/kontaktperson")
@staff_required(*QUEUE_ROLES)
def change_contact_person(alert_id: int) -> ResponseReturnValue:
    """Hand the relative to a colleague of the unit as their contact person."""
    found = _alert_to_act_on(alert_id)
    chosen = next(
        (
            s
            for s in colleagues_for(db.session, found.enrolment)
            if s.id == request.form.get("staff", type=int)
        ),
        None,
    )
    if chosen is None:
        raise ProfileError.not_in_unit()
    set_contact_person(db.session, g.staff, found.enrolment, chosen, utcnow())
    return finish_post(_("Kontaktpersonen är bytt."), _page_of(found))


@bp.route("/min-profil", methods=["GET", "POST"])
@staff_required(*QUEUE_ROLES)
def profile() -> ResponseReturnValue:
    """What relatives see of the staff member as their contact person."""
    staff: StaffUser = g.staff
    errors = FieldErrors()
    form = request.form
    if request.method == "POST":
        with errors.collect():
            save_profile(
                db.session,
                staff,
                form.get("display_name", ""),
                form.get("role", ""),
                form.get("reach", ""),
            )
            return finish_post(_("Din profil är sparad."), url_for(".profile"))
    shown = profile_of(db.session, staff)
    values = (
        form
        if request.method == "POST"
        else {
            "display_name": shown.display_name,
            "role": shown.role,
            "reach": shown.reach,
        }
    )
    return render_template("staff/profile.html", values=values, errors=errors), (
        400 if errors else 200
    )
