"""Staff accounts on the web: logging in (throttled without locking the owner out), out, and setting a password."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from guide.extensions import db, limiter
from guide.models import StaffRole, StaffUser
from guide.models.base import utcnow
from guide.rate_limits import failed
from guide.security import same_origin_path
from guide.services.accounts import (
    AccountError,
    address_key,
    check_password_strength,
    hash_password,
    verify_password,
)
from guide.services.passwords import account_for_password_token
from guide.web.forms import FieldErrors, finish_post
from guide.web.sessions import log_in_staff, log_out

bp = Blueprint("staff", __name__, url_prefix="/personal")


# Throttling that cannot be turned against the owner (a flat per-account lock can:
# anyone who knows the address locks its owner out). Tight per account and client;
# loose and growing per account, and not at all from a browser that has logged in
# to that account before (a signed "known device" cookie).
LOGIN_LIMIT_PER_CLIENT = "30 per 15 minutes"


LOGIN_LIMIT_PER_ACCOUNT_AND_CLIENT = "5 per 15 minutes"


LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes;20 per hour;50 per day"


DEVICE_COOKIE = "lots_device"


DEVICE_COOKIE_DAYS = 365


def _login_email() -> str:
    return address_key(request.form.get("email", ""))


def _login_account_key() -> str:
    return "staff-login:" + _login_email()


def _login_account_and_client_key() -> str:
    return f"staff-login:{_login_email()}:{get_remote_address()}"


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="staff-device")


def _known_device() -> bool:
    """Return whether this browser has logged in to the account it now tries before."""
    try:
        known = _device_serializer().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        return False
    return isinstance(known, list) and hashlib.sha256(_login_email().encode()).hexdigest() in known


def _remember_device(response: Any, email: str) -> None:
    try:
        known = _device_serializer().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        known = []
    digest = hashlib.sha256(email.encode()).hexdigest()
    known = (
        [digest, *[d for d in known if d != digest]][:5] if isinstance(known, list) else [digest]
    )
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps(known),
        max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
        path=url_for("staff.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


@bp.route("/logga-in", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_CLIENT, methods=["POST"], deduct_when=failed)
@limiter.limit(
    LOGIN_LIMIT_PER_ACCOUNT_AND_CLIENT,
    methods=["POST"],
    key_func=_login_account_and_client_key,
    deduct_when=failed,
)
@limiter.limit(
    LOGIN_LIMIT_PER_ACCOUNT,
    methods=["POST"],
    key_func=_login_account_key,
    deduct_when=failed,
    exempt_when=_known_device,
)
def login() -> ResponseReturnValue:
    """Log in with e-mail and password; failed attempts are throttled (see the limits above)."""
    error = None
    if request.method == "POST":
        email = _login_email()
        staff = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        password = request.form.get("password", "")
        if staff is None:
            verify_password(StaffUser(email=email, role="staff"), password)  # same time either way
        elif verify_password(staff, password):
            if not staff.active:
                error = _("Ditt konto är avstängt. Kontakta den som administrerar kontona.")
                return render_template("staff/login.html", error=error), 403
            log_in_staff(staff, utcnow())
            db.session.commit()
            # The system admin has no cards: their landing page is the administration;
            # editors work in the editors' workspace.
            if staff.role == StaffRole.EDITOR:
                home, prefix = url_for("editor.home"), url_for("editor.home")
            elif staff.role == StaffRole.ADMIN:
                home, prefix = url_for("admin.index"), "/personal/"
            else:
                home, prefix = url_for("cards.index"), "/personal/"
            target = same_origin_path(request.args.get("next"), home, prefix=prefix)
            response = redirect(target)
            _remember_device(response, email)
            return response
        error = _("Fel e-postadress eller lösenord. Försök igen.")
        return render_template("staff/login.html", error=error), 401
    if g.get("staff_timed_out"):
        error = _("Du loggades ut efter en stund utan aktivitet. Logga in igen.")
    return render_template("staff/login.html", error=error)


@bp.post("/logga-ut")
def logout() -> ResponseReturnValue:
    log_out(utcnow())
    return redirect(url_for("staff.login"))


@bp.route("/losenord/<token>", methods=["GET", "POST"])
def set_password(token: str) -> ResponseReturnValue:
    """Set a password from a one-time link printed by `guide staff create`."""
    account = account_for_password_token(db.session, token)
    if account is None or not account.active:
        abort(404, _("Länken fungerar inte längre. Be en administratör om en ny."))
    errors = FieldErrors()
    if request.method == "POST":
        password = request.form.get("password", "")
        with errors.collect():
            check_password_strength(password)
            if password != request.form.get("password2", ""):
                raise AccountError.passwords_differ()
            account.password_hash = hash_password(password)
            return finish_post(_("Lösenordet är sparat. Logga in."), url_for("staff.login"))
    error = next(iter(errors.values()), None)
    return render_template("staff/set_password.html", error=error, email=account.email), (
        400 if error else 200
    )
