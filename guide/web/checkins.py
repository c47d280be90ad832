"""The relative's actions: answer a check-in, tick 'Ditt behov', ask to be contacted."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from guide.auth import relative_required
from guide.checkins import (
    CheckinError,
    answer_checkin,
    checkin_for_relative,
    checkin_of,
    checkin_outcome,
)
from guide.content.library import current_library
from guide.content.model import Guide, Question, QuestionType
from guide.enrolment import CONSENT_TEXTS
from guide.extensions import db, limiter
from guide.followup import ContactRequest, FollowupError, request_contact, urgent_mail
from guide.journey_view import enrolment_of, enrolments_of
from guide.mailer import send_now
from guide.models import Alert, ConsentPurpose, Enrolment
from guide.models.base import utcnow
from guide.needs import NeedError, tick_needs, ticked_needs
from guide.web.forms import answers_from_form

bp = Blueprint("checkins", __name__, url_prefix="/min-guide")


def _crisis_text(guide: Guide) -> str | None:
    return guide.crisis.get(g.relative.language) if guide.crisis else None


@bp.route("/<int:enrolment_id>/fragor/<int:instance_id>", methods=["GET", "POST"])
@relative_required
def answer(enrolment_id: int, instance_id: int):  # type: ignore[no-untyped-def]
    """Show an open check-in and take its answers; every question may be left empty."""
    enrolment = enrolment_of(db.session, g.relative, enrolment_id)
    library = current_library()
    guide = library.guide(enrolment.guide_id)
    try:
        instance = checkin_for_relative(db.session, g.relative, instance_id, enrolment.id)
        checkin = checkin_of(guide, instance)
    except CheckinError as error:
        abort(error.status, error.message)
    if instance.answered_at is not None:
        return redirect(url_for(".answered", enrolment_id=enrolment.id, instance_id=instance.id))
    if instance.expired_at is not None:
        flash(CheckinError.expired().message, "info")
        return redirect(url_for("relative.journey"))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        raw = answers_from_form(checkin.questions, request.form)
        try:
            outcome = answer_checkin(db.session, library, instance, raw, utcnow())
        except CheckinError as error:
            db.session.rollback()
            if error.field is None:
                flash(error.message, "info")
                return redirect(url_for("relative.journey"))
            errors[f"q-{error.field}"] = error.message
            values = _redisplayed(checkin.questions, raw)
        else:
            db.session.commit()
            _send_urgent_mail(outcome.alert_ids)
            return redirect(
                url_for(".answered", enrolment_id=enrolment.id, instance_id=instance.id)
            )
    return (
        render_template(
            "relative/checkin.html",
            enrolment=enrolment,
            guide=guide,
            checkin=checkin,
            language=g.relative.language,
            values=values,
            errors=errors,
            crisis_text=_crisis_text(guide),
        ),
        400 if errors else 200,
    )


def _redisplayed(questions: tuple[Question, ...], raw: dict[str, Any]) -> dict[str, Any]:
    """Return the submitted answers as the form shows them again (a scale as a number)."""
    values = dict(raw)
    for question in questions:
        value = values.get(question.id)
        if question.type is QuestionType.SCALE and isinstance(value, str) and value.isdigit():
            values[question.id] = int(value)
    return values


def _send_urgent_mail(alert_ids: tuple[int, ...]) -> None:
    """Send the unit's staff the urgent e-mail now; the delivery pass retries a failure."""
    alerts = [alert for alert_id in alert_ids if (alert := db.session.get(Alert, alert_id))]
    for message in urgent_mail(db.session, alerts):
        send_now(db.session, message)


@bp.get("/<int:enrolment_id>/fragor/<int:instance_id>/tack")
@relative_required
def answered(enrolment_id: int, instance_id: int):  # type: ignore[no-untyped-def]
    """Thank the relative and show what the answers changed; the crisis text comes first."""
    enrolment = enrolment_of(db.session, g.relative, enrolment_id)
    library = current_library()
    guide = library.guide(enrolment.guide_id)
    try:
        instance = checkin_for_relative(db.session, g.relative, instance_id, enrolment.id)
        outcome = checkin_outcome(db.session, library, instance)
    except CheckinError as error:
        abort(error.status, error.message)
    return render_template(
        "relative/checkin_answered.html",
        enrolment=enrolment,
        guide=guide,
        outcome=outcome,
        contact_consent=g.relative.consent(ConsentPurpose.CONTACT),
        # The crisis text is already the first thing on the page when the rule fired.
        crisis_text=None if outcome.crisis_text else _crisis_text(guide),
    )


@bp.post("/<int:enrolment_id>/<module_id>/behov")
@relative_required
def needs(enrolment_id: int, module_id: str):  # type: ignore[no-untyped-def]
    """Tick 'Ditt behov' under a module."""
    enrolment = enrolment_of(db.session, g.relative, enrolment_id)
    guide = current_library().guide(enrolment.guide_id)
    chosen = request.form.getlist("need")
    back = url_for("relative.module", enrolment_id=enrolment.id, module_id=module_id)
    if not chosen:
        flash(_("Kryssa i det du behöver och skicka igen."), "info")
        return redirect(back + "#ditt-behov")
    try:
        tick_needs(db.session, guide, enrolment, module_id, chosen, utcnow())
    except NeedError as error:
        db.session.rollback()
        if error.status == 404:
            abort(404, error.message)
        flash(error.message, "error")
        return redirect(back + "#ditt-behov")
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


@bp.route("/kontakta-mig", methods=["GET", "POST"])
@relative_required
@limiter.limit("10 per hour", methods=["POST"])
def contact():  # type: ignore[no-untyped-def]
    """Ask the unit that issued the card to get in touch; ask for consent first if needed."""
    relative = g.relative
    enrolments = enrolments_of(db.session, relative)
    library = current_library()
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        enrolment = _chosen_enrolment(enrolments, form.get("enrolment", type=int))
        try:
            request_contact(
                db.session,
                relative,
                enrolment,
                ContactRequest(
                    phone=form.get("phone", ""),
                    email=form.get("email", ""),
                    message=form.get("message", ""),
                    consent=form.get("consent_contact") == "yes",
                ),
                utcnow(),
            )
        except FollowupError as error:
            db.session.rollback()
            errors[error.field or "phone"] = error.message
        else:
            db.session.commit()
            return redirect(url_for(".contact_sent"))
    guides = {e.id: library.guide(e.guide_id) for e in enrolments}
    first_guide = guides[enrolments[0].id] if enrolments else None
    return (
        render_template(
            "relative/contact.html",
            enrolments=enrolments,
            guides=guides,
            form=form,
            # A pending account (a card used with a known address) offers the address
            # typed at the card, as a new account does: the page must not tell them apart.
            email=form.get("email", relative.email or relative.claimed_email or "")
            if request.method == "POST"
            else relative.email or relative.claimed_email or "",
            errors=errors,
            has_consent=relative.consent(ConsentPurpose.CONTACT),
            consent_text=CONSENT_TEXTS[ConsentPurpose.CONTACT],
            crisis_text=_crisis_text(first_guide) if first_guide else None,
        ),
        400 if errors else 200,
    )


def _chosen_enrolment(enrolments: list[Enrolment], wanted: int | None) -> Enrolment | None:
    """Return the enrolment picked in the form; with only one, that one."""
    if wanted is not None:
        return next((e for e in enrolments if e.id == wanted), None)
    return enrolments[0] if enrolments else None


@bp.get("/kontakta-mig/skickat")
@relative_required
def contact_sent():  # type: ignore[no-untyped-def]
    """Confirm that the request reached the unit."""
    return render_template("relative/contact_sent.html")
