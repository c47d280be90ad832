"""Staff pages: logging in, issuing and printing cards, listing and revoking them."""

from __future__ import annotations

import io
from datetime import date

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select

from activation_codes.cards_pdf import write_cards_pdf
from guide.accounts import verify_password
from guide.auth import log_in_staff, staff_required
from guide.cards import (
    PDF_PART_SIZE,
    BatchRequest,
    CardError,
    cards_query,
    issue_batch,
    local_today,
    pdf_parts,
    printable_cards,
    revoke_card,
)
from guide.content.library import current_library
from guide.extensions import db, limiter
from guide.models import Card, CardBatch, CardStatus, StaffUser, Unit
from guide.models.base import utcnow

bp = Blueprint("staff", __name__, url_prefix="/personal")
PAGE_SIZE = 100


def _login_email_key() -> str:
    return "staff-login:" + request.form.get("email", "").strip().lower()


@bp.route("/logga-in", methods=["GET", "POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=lambda r: r.status_code >= 400)
@limiter.limit(
    "5 per 15 minutes",
    methods=["POST"],
    key_func=_login_email_key,
    deduct_when=lambda r: r.status_code >= 400,
)
def login():  # type: ignore[no-untyped-def]
    """Log in with e-mail and password; failed attempts are throttled per client and account."""
    error = None
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        staff = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        password = request.form.get("password", "")
        if staff is None:
            verify_password(StaffUser(email=email, role="staff"), password)  # same time either way
        elif verify_password(staff, password):
            log_in_staff(staff, utcnow())
            db.session.commit()
            target = request.args.get("next") or ""
            if not target.startswith("/personal"):
                target = url_for("staff.cards")
            return redirect(target)
        error = _("Fel e-postadress eller lösenord. Försök igen.")
        return render_template("staff/login.html", error=error), 401
    if g.get("staff_timed_out"):
        error = _("Du loggades ut efter en stund utan aktivitet. Logga in igen.")
    return render_template("staff/login.html", error=error)


@bp.post("/logga-ut")
def logout():  # type: ignore[no-untyped-def]
    session.clear()
    return redirect(url_for("staff.login"))


def _units_of(staff: StaffUser) -> list[Unit]:
    """The units a staff member may issue cards for: their own, or all of the organisation for admins."""
    if staff.organisation_id is None:
        return []
    if staff.role == "staff" and staff.unit is not None:
        return [staff.unit]
    return list(
        db.session.scalars(
            select(Unit).where(Unit.organisation_id == staff.organisation_id).order_by(Unit.name)
        )
    )


@bp.get("/kort")
@staff_required()
def cards():  # type: ignore[no-untyped-def]
    staff: StaffUser = g.staff
    if staff.organisation_id is None:
        abort(403, _("Ditt konto hör inte till någon organisation."))
    today = local_today(utcnow())
    status_value = request.args.get("status") or None
    status = CardStatus(status_value) if status_value in {s.value for s in CardStatus} else None
    unit_id = request.args.get("enhet", type=int)
    guide_id = request.args.get("guide") or None
    batch_id = request.args.get("omgang", type=int)
    page = max(request.args.get("sida", 1, type=int), 1)
    query = cards_query(staff.organisation_id, status, unit_id, guide_id, batch_id, today)
    total = (
        db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    batches = db.session.scalars(
        select(CardBatch)
        .where(CardBatch.organisation_id == staff.organisation_id)
        .order_by(CardBatch.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "staff/cards.html",
        cards=rows,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
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
@staff_required()
def issue():  # type: ignore[no-untyped-def]
    staff: StaffUser = g.staff
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
    if batch is None or batch.organisation_id != g.staff.organisation_id:
        abort(404, _("Omgången finns inte."))
    return batch


@bp.get("/omgang/<int:batch_id>")
@staff_required()
def batch(batch_id: int):  # type: ignore[no-untyped-def]
    found = _own_batch(batch_id)
    guide = current_library().guide(found.guide_id)
    return render_template("staff/batch.html", batch=found, guide=guide, parts=pdf_parts(found))


@bp.get("/omgang/<int:batch_id>.pdf")
@staff_required()
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
@staff_required()
def revoke(card_id: int):  # type: ignore[no-untyped-def]
    card = db.session.get(Card, card_id)
    if card is None or card.organisation_id != g.staff.organisation_id:
        abort(404, _("Kortet finns inte."))
    try:
        revoke_card(db.session, card, utcnow())
    except CardError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Kortet %(code)s är spärrat.", code=card.code), "success")
    return redirect(
        request.referrer
        if (request.referrer or "").count("/personal/kort")
        else url_for("staff.cards")
    )


@bp.route("/losenord/<token>", methods=["GET", "POST"])
def set_password(token: str):  # type: ignore[no-untyped-def]
    """Set a password from a one-time link printed by `guide staff create`."""
    from guide.accounts import AccountError, check_password_strength, hash_password
    from guide.staff_passwords import account_for_password_token

    account = account_for_password_token(db.session, token)
    if account is None:
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
