"""'Kontakta mig': the relative asks to be contacted by the unit that issued their card."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.extensions import db, limiter
from guide.models import ConsentPurpose, Enrolment
from guide.models.base import utcnow
from guide.services.contact import ContactRequest, request_contact
from guide.services.enrolment import CONSENT_TEXTS
from guide.services.followup_calls import accept_call_offer, decline_call_offer
from guide.services.library import current_library
from guide.services.reading import enrolment_of, enrolments_of
from guide.web.forms import FieldErrors, finish_post
from guide.web.helpers import crisis_text_for
from guide.web.sessions import relative_required

bp = Blueprint("contact", __name__, url_prefix="/min-guide")


@bp.route("/kontakta-mig", methods=["GET", "POST"])
@relative_required
@limiter.limit("10 per hour", methods=["POST"])
def form() -> ResponseReturnValue:
    """Ask the unit that issued the card to get in touch; ask for consent first if needed."""
    relative = g.relative
    enrolments = enrolments_of(db.session, relative)
    library = current_library()
    errors = FieldErrors()
    form = request.form
    if request.method == "POST":
        enrolment = _chosen_enrolment(enrolments, form.get("enrolment", type=int))
        with errors.collect():
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
            db.session.commit()
            return redirect(url_for(".sent"))
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
            crisis_text=crisis_text_for(first_guide) if first_guide else None,
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
def sent() -> ResponseReturnValue:
    """Confirm that the request reached the unit."""
    return render_template("relative/contact_sent.html")


@bp.post("/<int:enrolment_id>/ring-mig")
@relative_required
@limiter.limit("10 per hour")
def accept_call(enrolment_id: int) -> ResponseReturnValue:
    """One click: agree to be contacted and ask for the call Min guide offered."""
    enrolment = enrolment_of(db.session, g.relative, enrolment_id)
    accept_call_offer(db.session, g.relative, enrolment, utcnow())
    return finish_post(
        _("Tack. Någon från enheten ringer eller skriver till dig."), url_for("journey.index")
    )


@bp.post("/<int:enrolment_id>/ring-inte")
@relative_required
def decline_call(enrolment_id: int) -> ResponseReturnValue:
    """'Nej tack': take the offer away; nothing more happens."""
    enrolment = enrolment_of(db.session, g.relative, enrolment_id)
    decline_call_offer(db.session, g.relative, enrolment, utcnow())
    return finish_post(
        _("Okej. Du kan alltid be om kontakt under Kontakta mig."), url_for("journey.index")
    )
