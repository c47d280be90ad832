"""'Ditt behov': the relative ticks what they need after reading a module."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.extensions import db
from guide.models import Enrolment
from guide.models.base import utcnow
from guide.services.library import current_library
from guide.services.needs import tick_needs, ticked_needs
from guide.services.reading import enrolment_of
from guide.web.errors import back_to
from guide.web.sessions import relative_required

bp = Blueprint("needs", __name__, url_prefix="/min-guide")


@bp.post("/<int:enrolment_id>/<module_id>/behov")
@relative_required
def tick(enrolment_id: int, module_id: str) -> ResponseReturnValue:
    """Tick 'Ditt behov' under a module."""
    enrolment = enrolment_of(db.session, g.relative, enrolment_id)
    guide = current_library().guide(enrolment.guide_id)
    chosen = request.form.getlist("need")
    back = url_for("journey.module", enrolment_id=enrolment.id, module_id=module_id)
    if not chosen:
        flash(_("Kryssa i det du behöver och skicka igen."), "info")
        return redirect(back + "#ditt-behov")
    back_to(back + "#ditt-behov")
    tick_needs(db.session, guide, enrolment, module_id, chosen, utcnow())
    db.session.commit()
    flash(
        _(
            "Tack! Vi har noterat vad du behöver. Vill du att någon hör av sig kan du "
            "välja Kontakta mig."
        ),
        "success",
    )
    return redirect(back + "#ditt-behov")


@bp.app_template_global("ticked_needs")
def ticked_needs_global(enrolment: Enrolment, module_id: str) -> list[str]:
    """Let the module page show which needs the relative has already ticked."""
    return ticked_needs(db.session, enrolment, module_id)
