"""Public pages: the start page, activating a card, logging in with a link, unsubscribing."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
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

from guide.extensions import db, limiter
from guide.mail.background import send_after_request
from guide.mail.unsubscribe import relative_for_unsubscribe
from guide.models import ConsentPurpose, Relative
from guide.models.base import utcnow
from guide.rate_limits import REDEMPTION_LIMIT, code_key, failed
from guide.services.answers import clean_answers
from guide.services.cards import local_today
from guide.services.enrolment import (
    CONSENT_TEXTS,
    Redemption,
    find_redeemable_card,
    redeem_card,
)
from guide.services.library import current_library
from guide.services.login import (
    login_token_attaches,
    request_login_link,
    use_login_token,
)
from guide.web.forms import FieldErrors, answers_from_form, shown_again
from guide.web.helpers import current_locale
from guide.web.sessions import log_in_relative, log_out

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("public/index.html", guides=current_library().guides.values())


# -- activation ---------------------------------------------------------------------


@bp.route("/aktivera", methods=["GET", "POST"])
@limiter.shared_limit(REDEMPTION_LIMIT, "redeem-client", methods=["POST"], deduct_when=failed)
@limiter.shared_limit(
    REDEMPTION_LIMIT, "redeem-code", methods=["POST"], key_func=code_key, deduct_when=failed
)
def activate() -> ResponseReturnValue:
    """Step 1: the code. The check symbol catches typing errors before any lookup."""
    code = request.values.get("kod") or request.form.get("code") or ""
    errors = FieldErrors()
    if request.method == "POST":
        with errors.collect():
            card = find_redeemable_card(db.session, current_library(), code, local_today(utcnow()))
            session["activation"] = {"code": card.code, "guide": card.guide_id}
            return redirect(url_for("public.activate_questions"))
    return render_template("public/activate.html", code=code, errors=errors), 400 if errors else 200


def _pending_activation() -> dict[str, Any]:
    pending = session.get("activation")
    if not pending:
        abort(redirect(url_for("public.activate")))
    return pending  # type: ignore[no-any-return]


@bp.route("/aktivera/fragor", methods=["GET", "POST"])
def activate_questions() -> ResponseReturnValue:
    """Step 2: the guide's profile questions; every one may be skipped."""
    pending = _pending_activation()
    guide = current_library().guide(pending["guide"])
    language = _language()
    if not guide.profile:
        return redirect(url_for("public.activate_consent"))
    errors = FieldErrors()
    answers = pending.get("profile", {})
    if request.method == "POST":
        if "skip" in request.form:
            answers = {}
        else:
            answers = answers_from_form(guide.profile, request.form)
            with errors.collect(prefix="q-"):
                answers = clean_answers(guide.profile, answers, today=local_today(utcnow()))
            if errors:
                answers = shown_again(guide.profile, answers)
        if not errors:
            session["activation"] = {**pending, "profile": answers}
            return redirect(url_for("public.activate_consent"))
    status = 400 if errors else 200
    return (
        render_template(
            "public/activate_questions.html",
            guide=guide,
            language=language,
            answers=answers,
            errors=errors,
            today=local_today(utcnow()).isoformat(),
        ),
        status,
    )


@bp.route("/aktivera/samtycke", methods=["GET", "POST"])
def activate_consent() -> ResponseReturnValue:
    """Step 3: e-mail and consents, each its own checkbox; then the relative is enrolled."""
    pending = _pending_activation()
    guide = current_library().guide(pending["guide"])
    errors = FieldErrors()
    form = request.form
    if request.method == "POST":
        consents = {
            purpose: form.get(f"consent_{purpose.value}") == "yes" for purpose in ConsentPurpose
        }
        now = utcnow()
        with errors.collect():
            enrolment, first_mail = redeem_card(
                db.session,
                current_library(),
                Redemption(
                    code=pending["code"],
                    email=form.get("email", ""),
                    consents=consents,
                    language=_language(),
                    profile=pending.get("profile", {}),
                    timezone=current_app.config["GUIDE_TIMEZONE"],
                ),
                now,
                local_today(now),
            )
            db.session.commit()
            session.pop("activation", None)
            send_after_request(first_mail)
            # The card proved the card, not the address: this session sees the new
            # enrolment only, until a link mailed to the address is used.
            log_in_relative(enrolment.relative, address_proved=False)
            flash(_("Välkommen! Ditt första avsnitt finns här nedanför."), "success")
            return redirect(url_for("journey.index"))
        if "code" in errors:
            # The card was used or revoked since step 1: start again there.
            session.pop("activation", None)
            flash(errors.pop("code"), "error")
            return redirect(url_for("public.activate"))
    return (
        render_template(
            "public/activate_consent.html",
            guide=guide,
            consent_texts=CONSENT_TEXTS,
            form=form,
            errors=errors,
        ),
        400 if errors else 200,
    )


def _language() -> str:
    return current_locale()


# -- logging in ---------------------------------------------------------------------


@bp.route("/logga-in", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def login() -> ResponseReturnValue:
    """Ask for a login link. The answer is the same whether or not the address is known."""
    if request.method == "POST":
        message = request_login_link(db.session, request.form.get("email", ""), utcnow())
        db.session.commit()
        send_after_request(message)
        return render_template("public/login_sent.html")
    return render_template("public/login.html")


@bp.get("/logga-in/<token>")
def login_with_token(token: str) -> ResponseReturnValue:
    # A button, not an automatic login: mail scanners that open links must not spend them.
    return render_template(
        "public/login_confirm.html", token=token, attaches=login_token_attaches(db.session, token)
    )


@bp.post("/logga-in/<token>")
def login_with_token_confirm(token: str) -> ResponseReturnValue:
    errors = FieldErrors()
    with errors.collect():
        relative = use_login_token(db.session, token, utcnow())
        db.session.commit()
        log_in_relative(relative, address_proved=True)
        return redirect(url_for("journey.index"))
    return render_template("public/login.html", link_error=errors["token"]), 400


@bp.post("/logga-ut")
def logout() -> ResponseReturnValue:
    log_out(utcnow())
    flash(_("Du är utloggad."), "info")
    return redirect(url_for("public.index"))


# -- unsubscribe --------------------------------------------------------------------


@bp.get("/avregistrera/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    if relative_for_unsubscribe(token) is None:
        abort(404)
    return render_template("public/unsubscribe.html", token=token, done=False)


@bp.post("/avregistrera/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    """One-click unsubscribe (RFC 8058): works without logging in and without a form token."""
    relative_id = relative_for_unsubscribe(token)
    relative = db.session.get(Relative, relative_id) if relative_id else None
    if relative is None:
        abort(404)
    if relative.email_paused_at is None:
        relative.email_paused_at = utcnow()
        relative.email_pause_reason = "Avregistrerad via länk i e-post"
        db.session.commit()
    if g.get("relative") is None and request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    return render_template("public/unsubscribe.html", token=token, done=True)
