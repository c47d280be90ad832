"""The relative changes the answers they gave when the card was redeemed ("Dina svar")."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.extensions import db
from guide.models.base import utcnow
from guide.services.journey import state_of
from guide.services.library import current_library
from guide.services.profile import change_profile
from guide.services.reading import enrolment_of
from guide.web.forms import FieldErrors, answers_from_form, shown_again
from guide.web.sessions import relative_required

bp = Blueprint("profile", __name__, url_prefix="/min-guide")


@bp.route("/<int:enrolment_id>/dina-svar", methods=["GET", "POST"])
@relative_required
def answers(enrolment_id: int) -> ResponseReturnValue:
    """Show the profile questions with the relative's answers, and store changed ones."""
    enrolment = enrolment_of(db.session, g.relative, enrolment_id)
    guide = current_library().guide(enrolment.guide_id)
    errors = FieldErrors()
    values = dict(enrolment.profile or {})
    if request.method == "POST":
        raw = answers_from_form(guide.profile, request.form)
        with errors.collect(prefix="q-"):
            change_profile(db.session, current_library(), enrolment, raw, utcnow())
            db.session.commit()
            flash(_("Dina svar är sparade. Guiden följer dem från och med nu."), "info")
            return redirect(url_for("journey.index"))
        values = shown_again(guide.profile, raw)
    return (
        render_template(
            "relative/profile.html",
            enrolment=enrolment,
            guide=guide,
            language=g.relative.language,
            values=values,
            errors=errors,
            today=state_of(enrolment).local_date(utcnow()).isoformat(),
        ),
        400 if errors else 200,
    )
