"""Staff pages: logging in, issuing and printing cards, listing and revoking them."""

from __future__ import annotations

import hashlib
import io
from datetime import date
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
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from activation_codes.cards_pdf import write_cards_pdf
from guide.accounts import verify_password
from guide.auth import log_in_staff, log_out, staff_required
from guide.cards import (
    PDF_PART_SIZE,
    BatchRequest,
    CardError,
    CardScope,
    card_scope,
    issue_batch,
    local_today,
    pdf_parts,
    printable_cards,
    revoke_card,
    scoped_cards_query,
)
from guide.content.library import current_library
from guide.extensions import db, limiter
from guide.models import Card, CardBatch, CardStatus, StaffRole, StaffUser, Unit
from guide.models.base import utcnow
from guide.security import MAX_DATABASE_ID, same_origin_path

bp = Blueprint("staff", __name__, url_prefix="/personal")
PAGE_SIZE = 100


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
    return request.form.get("email", "").strip().lower()[:320]


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


def _login_failed(response: Any) -> bool:
    return response.status_code >= 400


@bp.route("/logga-in", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_CLIENT, methods=["POST"], deduct_when=_login_failed)
@limiter.limit(
    LOGIN_LIMIT_PER_ACCOUNT_AND_CLIENT,
    methods=["POST"],
    key_func=_login_account_and_client_key,
    deduct_when=_login_failed,
)
@limiter.limit(
    LOGIN_LIMIT_PER_ACCOUNT,
    methods=["POST"],
    key_func=_login_account_key,
    deduct_when=_login_failed,
    exempt_when=_known_device,
)
def login():  # type: ignore[no-untyped-def]
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
            target = same_origin_path(
                request.args.get("next"), url_for("staff.cards"), prefix="/personal/"
            )
            response = redirect(target)
            _remember_device(response, email)
            return response
        error = _("Fel e-postadress eller lösenord. Försök igen.")
        return render_template("staff/login.html", error=error), 401
    if g.get("staff_timed_out"):
        error = _("Du loggades ut efter en stund utan aktivitet. Logga in igen.")
    return render_template("staff/login.html", error=error)


@bp.post("/logga-ut")
def logout():  # type: ignore[no-untyped-def]
    log_out(utcnow())
    return redirect(url_for("staff.login"))


CARD_ROLES = (StaffRole.STAFF, StaffRole.ORG_ADMIN)


def _scope(staff: StaffUser) -> CardScope:
    """Return the cards `staff` may work with, or 403: an editor has no cards, whatever its --org."""
    scope = card_scope(staff)
    if scope is None:
        abort(403, _("Ditt konto kan inte skapa eller se aktiveringskort."))
    return scope


def _units_of(staff: StaffUser) -> list[Unit]:
    """The units a staff member may issue cards for: their own, or all of the organisation for admins."""
    scope = card_scope(staff)
    if scope is None:
        return []
    query = select(Unit).where(Unit.organisation_id == scope.organisation_id)
    if scope.unit_id is not None:
        query = query.where(Unit.id == scope.unit_id)
    return list(db.session.scalars(query.order_by(Unit.name)))


def _id_arg(name: str) -> int | None:
    """Return an id from the query string; one that no id column can hold counts as absent."""
    value = request.args.get(name, type=int)
    return value if value is not None and 1 <= value <= MAX_DATABASE_ID else None


@bp.get("/kort")
@staff_required(*CARD_ROLES)
def cards():  # type: ignore[no-untyped-def]
    staff: StaffUser = g.staff
    scope = _scope(staff)
    today = local_today(utcnow())
    status_value = request.args.get("status") or None
    status = CardStatus(status_value) if status_value in {s.value for s in CardStatus} else None
    unit_id = _id_arg("enhet")
    guide_id = request.args.get("guide") or None
    batch_id = _id_arg("omgang")
    query = scoped_cards_query(scope, status, unit_id, guide_id, batch_id, today)
    total = (
        db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(_id_arg("sida") or 1, 1), pages)
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    batch_query = select(CardBatch).where(CardBatch.organisation_id == scope.organisation_id)
    if scope.unit_id is not None:
        batch_query = batch_query.where(CardBatch.unit_id == scope.unit_id)
    batches = db.session.scalars(batch_query.order_by(CardBatch.id.desc()).limit(20)).all()
    return render_template(
        "staff/cards.html",
        cards=rows,
        total=total,
        page=page,
        pages=pages,
        today=today,
        statuses=list(CardStatus),
        status=status,
        units=_units_of(staff),
        unit_id=unit_id,
        guides=list(current_library().guides.values()),
        guide_id=guide_id,
        batches=batches,
    )


@bp.route("/kort/nya", methods=["GET", "POST"])
@staff_required(*CARD_ROLES)
def issue():  # type: ignore[no-untyped-def]
    staff: StaffUser = g.staff
    _scope(staff)
    units = _units_of(staff)
    library = current_library()
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        unit = next((u for u in units if str(u.id) == form.get("unit")), None)
        guide = library.guides.get(form.get("guide", ""))
        count = form.get("count", type=int)
        expires_raw = form.get("expires", "").strip()
        expires = None
        if unit is None:
            errors["unit"] = _("Välj en av dina enheter.")
        if guide is None:
            errors["guide"] = _("Välj en guide.")
        if count is None:
            errors["count"] = _("Skriv hur många kort du vill skapa, till exempel 20.")
        if expires_raw:
            try:
                expires = date.fromisoformat(expires_raw)
            except ValueError:
                errors["expires"] = _("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2027-06-30.")
        if not errors and unit is not None and guide is not None and count is not None:
            phase = form.get("phase") or None
            try:
                batch = issue_batch(
                    db.session, BatchRequest(unit, guide, count, phase, expires), utcnow(), staff
                )
            except CardError as error:
                errors["count"] = str(error)
            else:
                db.session.commit()
                flash(
                    _("%(count)s kort har skapats. Skriv ut dem som PDF.", count=count), "success"
                )
                return redirect(url_for("staff.batch", batch_id=batch.id))
    return (
        render_template(
            "staff/issue.html",
            units=units,
            guides=list(library.guides.values()),
            form=form,
            errors=errors,
        ),
        400 if errors else 200,
    )


def _own_batch(batch_id: int) -> CardBatch:
    batch = db.session.get(CardBatch, batch_id)
    if batch is None or not _scope(g.staff).holds(batch.organisation_id, batch.unit_id):
        abort(404, _("Omgången finns inte."))
    return batch


@bp.get("/omgang/<int:batch_id>")
@staff_required(*CARD_ROLES)
def batch(batch_id: int):  # type: ignore[no-untyped-def]
    found = _own_batch(batch_id)
    guide = current_library().guide(found.guide_id)
    return render_template("staff/batch.html", batch=found, guide=guide, parts=pdf_parts(found))


@bp.get("/omgang/<int:batch_id>.pdf")
@staff_required(*CARD_ROLES)
def batch_pdf(batch_id: int):  # type: ignore[no-untyped-def]
    found = _own_batch(batch_id)
    parts = pdf_parts(found)
    part = request.args.get("del", 1, type=int)
    if not 1 <= part <= len(parts):
        abort(404, _("Den delen av omgången finns inte."))
    cards = printable_cards(
        db.session, current_library(), found, offset=(part - 1) * PDF_PART_SIZE, limit=PDF_PART_SIZE
    )
    buffer = io.BytesIO()
    write_cards_pdf(cards, buffer)
    buffer.seek(0)
    suffix = f"-del-{part}" if len(parts) > 1 else ""
    return send_file(
        buffer,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"aktiveringskort-{found.id}{suffix}.pdf",
    )


@bp.post("/kort/<int:card_id>/sparra")
@staff_required(*CARD_ROLES)
def revoke(card_id: int):  # type: ignore[no-untyped-def]
    card = db.session.get(Card, card_id)
    if card is None or not _scope(g.staff).holds(card.organisation_id, card.unit_id):
        abort(404, _("Kortet finns inte."))
    try:
        revoke_card(db.session, card, utcnow())
    except CardError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Kortet %(code)s är spärrat.", code=card.code), "success")
    # Back to the list as it was filtered, but only ever to a page of this site.
    return redirect(
        same_origin_path(request.referrer, url_for("staff.cards"), prefix="/personal/kort")
    )


@bp.route("/losenord/<token>", methods=["GET", "POST"])
def set_password(token: str):  # type: ignore[no-untyped-def]
    """Set a password from a one-time link printed by `guide staff create`."""
    from guide.accounts import AccountError, check_password_strength, hash_password
    from guide.staff_passwords import account_for_password_token

    account = account_for_password_token(db.session, token)
    if account is None or not account.active:
        abort(404, _("Länken fungerar inte längre. Be en administratör om en ny."))
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        try:
            check_password_strength(password)
            if password != request.form.get("password2", ""):
                raise AccountError(_("Lösenorden är inte lika. Skriv samma lösenord två gånger."))
        except AccountError as problem:
            error = str(problem)
        else:
            account.password_hash = hash_password(password)
            db.session.commit()
            flash(_("Lösenordet är sparat. Logga in."), "success")
            return redirect(url_for("staff.login"))
    return render_template("staff/set_password.html", error=error, email=account.email), (
        400 if error else 200
    )
