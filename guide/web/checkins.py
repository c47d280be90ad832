"""The relative answers a check-in; the thank-you page says what the answers changed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.content.model import Guide, Library
from guide.errors import say
from guide.extensions import db
from guide.mail.delivery import send_now
from guide.models import Alert, CheckinInstance, ConsentPurpose, Enrolment
from guide.models.base import utcnow
from guide.services.checkins import (
    CheckinError,
    answer_checkin,
    checkin_for_relative,
    checkin_of,
    checkin_outcome,
)
from guide.services.followup import urgent_mail
from guide.services.journey import state_of
from guide.services.library import current_library
from guide.services.reading import enrolment_of
from guide.web.errors import back_to
from guide.web.forms import FieldErrors, answers_from_form, shown_again
from guide.web.helpers import crisis_text_for
from guide.web.sessions import relative_required

bp = Blueprint("checkins", __name__, url_prefix="/min-guide")


@bp.route("/<int:enrolment_id>/fragor/<int:instance_id>", methods=["GET", "POST"])
@relative_required
def answer(enrolment_id: int, instance_id: int) -> ResponseReturnValue:
    """Show an open check-in and take its answers; every question may be left empty."""
    enrolment, library, guide, instance = _relatives_checkin(enrolment_id, instance_id)
    checkin = checkin_of(guide, instance)
    if instance.answered_at is not None:
        return redirect(url_for(".answered", enrolment_id=enrolment.id, instance_id=instance.id))
    if instance.expired_at is not None:
        flash(say(CheckinError.expired().message, _), "info")
        return redirect(url_for("journey.index"))
    errors = FieldErrors()
    values: dict[str, Any] = {}
    if request.method == "POST":
        raw = answers_from_form(checkin.questions, request.form)
        back_to(url_for("journey.index"))  # answered or replaced meanwhile: Min guide says so
        with errors.collect(prefix="q-"):
            outcome = answer_checkin(db.session, library, instance, raw, utcnow())
            db.session.commit()
            _send_urgent_mail(outcome.alert_ids)
            return redirect(
                url_for(".answered", enrolment_id=enrolment.id, instance_id=instance.id)
            )
        values = shown_again(checkin.questions, raw)
    return (
        render_template(
            "relative/checkin.html",
            enrolment=enrolment,
            guide=guide,
            checkin=checkin,
            language=g.relative.language,
            values=values,
            errors=errors,
            today=state_of(enrolment).local_date(utcnow()).isoformat(),
            crisis_text=crisis_text_for(guide),
        ),
        400 if errors else 200,
    )


def _relatives_checkin(
    enrolment_id: int, instance_id: int
) -> tuple[Enrolment, Library, Guide, CheckinInstance]:
    """Find a check-in through the relative's own enrolment, with the guide it asks for."""
    enrolment = enrolment_of(db.session, g.relative, enrolment_id)
    library = current_library()
    guide = library.guide(enrolment.guide_id)
    instance = checkin_for_relative(db.session, g.relative, instance_id, enrolment.id)
    return enrolment, library, guide, instance


def _send_urgent_mail(alert_ids: tuple[int, ...]) -> None:
    """Send the unit's staff the urgent e-mail now; the delivery pass retries a failure."""
    alerts = [alert for alert_id in alert_ids if (alert := db.session.get(Alert, alert_id))]
    for message in urgent_mail(db.session, alerts):
        send_now(db.session, message)


@bp.get("/<int:enrolment_id>/fragor/<int:instance_id>/tack")
@relative_required
def answered(enrolment_id: int, instance_id: int) -> ResponseReturnValue:
    """Thank the relative and show what the answers changed; the crisis text comes first."""
    enrolment, library, guide, instance = _relatives_checkin(enrolment_id, instance_id)
    outcome = checkin_outcome(db.session, library, instance)
    return render_template(
        "relative/checkin_answered.html",
        enrolment=enrolment,
        guide=guide,
        outcome=outcome,
        contact_consent=g.relative.consent(ConsentPurpose.CONTACT),
        # The crisis text is already the first thing on the page when the rule fired.
        crisis_text=None if outcome.crisis_text else crisis_text_for(guide),
    )
