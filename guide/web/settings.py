"""Mina inställningar: pause, language, hour, mail, consents, the data download and erasure."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.extensions import db
from guide.mail.background import send_after_request
from guide.models import ConsentPurpose
from guide.models.base import utcnow
from guide.services import settings
from guide.services.library import current_library
from guide.services.privacy import PrivacyError, erase_relative, export_relative
from guide.web.forms import FieldErrors
from guide.web.sessions import relative_required

bp = Blueprint("settings", __name__, url_prefix="/mina-installningar")

HOURS = range(8, 21)


def _yes_no(name: str) -> bool:
    """Read a yes/no field that must be there; anything else is a bad request."""
    value = request.form.get(name)
    if value not in ("yes", "no"):
        abort(400, _("Välj ja eller nej."))
    return value == "yes"


def _page(errors: FieldErrors | None = None, status: int = 200) -> ResponseReturnValue:
    relative = g.relative
    library = current_library()
    enrolments = [
        e for e in settings.relative_enrolments(db.session, relative) if e.status == "active"
    ]
    guides = {e.id: library.guide(e.guide_id) for e in enrolments}
    return (
        render_template(
            "relative/settings.html",
            relative=relative,
            enrolments=enrolments,
            guides=guides,
            any_sensitive=any(guide.sensitive for guide in guides.values()),
            hour=enrolments[0].preferred_hour if enrolments else 9,
            hours=HOURS,
            consents=settings.consents_of(relative),
            errors=errors or FieldErrors(),
        ),
        status,
    )


@bp.get("/")
@relative_required
def index() -> ResponseReturnValue:
    """Show every setting and consent, with a form for each."""
    return _page()


@bp.post("/")
@relative_required
def save() -> ResponseReturnValue:
    """Save language, preferred hour, full text and titles in e-mail."""
    relative = g.relative
    form = request.form
    now = utcnow()
    errors = FieldErrors()
    with errors.collect():
        settings.set_language(db.session, relative, form.get("language", ""), now)
        hour = form.get("preferred_hour", "")
        settings.set_preferred_hour(db.session, relative, int(hour) if hour.isdigit() else -1, now)
        settings.set_full_text(db.session, relative, form.get("full_text") == "yes", now)
        settings.set_titles_in_email(db.session, relative, form.get("titles") == "yes", now)
        db.session.commit()
        session["language"] = relative.language
        flash(_("Dina inställningar är sparade."))
        return redirect(url_for(".index"))
    return _page(errors, 400)


@bp.post("/e-post")
@relative_required
def change_email() -> ResponseReturnValue:
    """Mail a confirmation link to a new address; the address changes when it is used."""
    errors = FieldErrors()
    with errors.collect():
        message = settings.request_email_change(
            db.session, g.relative, request.form.get("email", ""), utcnow()
        )
        db.session.commit()
        send_after_request(message)
        flash(
            _(
                "Vi har skickat en länk till den nya adressen. Din adress ändras när du "
                "har använt länken. Tills dess får du breven som vanligt."
            )
        )
        return redirect(url_for(".index"))
    return _page(errors, 400)


@bp.get("/ny-adress/<token>")
def confirm_email(token: str) -> ResponseReturnValue:
    """Show the new address and a button: a mail scanner that opens links changes nothing."""
    _, new = settings.read_email_change(db.session, token)
    return render_template("relative/confirm_email.html", new=new, token=token)


@bp.post("/ny-adress/<token>")
def confirm_email_post(token: str) -> ResponseReturnValue:
    """Move the account to the new address; the link proved it."""
    settings.confirm_email_change(db.session, token, utcnow())
    db.session.commit()
    session.clear()
    flash(_("Din e-postadress är ändrad. Logga in med en länk till den nya adressen."))
    return redirect(url_for("public.login"))


@bp.post("/paus/<int:enrolment_id>")
@relative_required
def pause(enrolment_id: int) -> ResponseReturnValue:
    """Pause or resume one guide."""
    enrolment = settings.own_enrolment(db.session, g.relative, enrolment_id)
    paused = _yes_no("paused")
    settings.set_paused(db.session, enrolment, paused, utcnow())
    db.session.commit()
    flash(
        _("Guiden är pausad. Du får inga nya avsnitt eller brev förrän du startar den igen.")
        if paused
        else _("Guiden är igång igen. Det som har kommit under pausen får du i ett brev.")
    )
    return redirect(url_for(".index"))


@bp.post("/samtycke/<purpose>")
@relative_required
def consent(purpose: str) -> ResponseReturnValue:
    """Give or withdraw a consent; withdrawing the service itself goes to the erase page."""
    chosen = settings.purpose_of(purpose)
    granted = _yes_no("granted")
    if chosen == ConsentPurpose.SERVICE and not granted:
        return redirect(url_for(".erase"))
    settings.set_consent(db.session, g.relative, chosen, granted, utcnow())
    db.session.commit()
    flash(_("Ditt samtycke är ändrat."))
    return redirect(url_for(".index"))


@bp.get("/mina-uppgifter.json")
@relative_required
def export() -> ResponseReturnValue:
    """Download everything stored about the relative as one JSON file."""
    data = export_relative(db.session, g.relative)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="lots-mina-uppgifter.json"'},
    )


@bp.route("/radera", methods=["GET", "POST"])
@relative_required
def erase() -> ResponseReturnValue:
    """Erase the account after a confirmation that says what goes and what stays."""
    errors = FieldErrors()
    if request.method == "POST":
        with errors.collect():
            if request.form.get("confirm") != "yes":
                raise PrivacyError.confirmation_required()
            erasure = erase_relative(db.session, g.relative, utcnow())
            db.session.commit()
            send_after_request(erasure.confirmation)
            session.clear()
            return redirect(url_for(".erased"))
    return render_template("relative/erase.html", errors=errors), 400 if errors else 200


@bp.get("/raderat")
def erased() -> ResponseReturnValue:
    """Say goodbye: the account is gone, and the session with it."""
    return render_template("relative/erased.html")
