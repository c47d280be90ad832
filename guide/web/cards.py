"""Staff pages for activation cards: issue a batch, print it, list and revoke the unit's cards."""

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
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from activation_codes.cards_pdf import CardWording, write_cards_pdf
from guide.extensions import db
from guide.models import Card, CardBatch, CardStatus, StaffRole, StaffUser, Unit
from guide.models.base import utcnow
from guide.security import MAX_DATABASE_ID, same_origin_path
from guide.services.cards import (
    PDF_PART_SIZE,
    BatchRequest,
    CardFilter,
    CardScope,
    card_scope,
    issue_batch,
    local_today,
    pdf_parts,
    printable_cards,
    revoke_card,
    scoped_cards_query,
)
from guide.services.library import current_library
from guide.web.errors import back_to
from guide.web.forms import FieldErrors, finish_post
from guide.web.sessions import staff_required

bp = Blueprint("cards", __name__, url_prefix="/personal")

PAGE_SIZE = 100


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
def index() -> ResponseReturnValue:
    staff: StaffUser = g.staff
    scope = _scope(staff)
    today = local_today(utcnow())
    status_value = request.args.get("status") or None
    status = CardStatus(status_value) if status_value in {s.value for s in CardStatus} else None
    unit_id = _id_arg("enhet")
    guide_id = request.args.get("guide") or None
    batch_id = _id_arg("omgang")
    query = scoped_cards_query(scope, CardFilter(status, unit_id, guide_id, batch_id, today))
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
        guide_titles=_guide_titles(),
        guide_id=guide_id,
        batches=batches,
    )


def _guide_titles() -> dict[str, str]:
    """Return each guide's title in the page's language, by guide id."""
    language = str(get_locale() or "sv")
    return {guide.id: guide.title.get(language) for guide in current_library().guides.values()}


@bp.route("/kort/nya", methods=["GET", "POST"])
@staff_required(*CARD_ROLES)
def issue() -> ResponseReturnValue:
    staff: StaffUser = g.staff
    _scope(staff)
    units = _units_of(staff)
    library = current_library()
    errors = FieldErrors()
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
            with errors.collect():
                batch = issue_batch(
                    db.session, BatchRequest(unit, guide, count, phase, expires), utcnow(), staff
                )
                db.session.commit()
                flash(
                    _("%(count)s kort har skapats. Skriv ut dem som PDF.", count=count), "success"
                )
                return redirect(url_for("cards.batch", batch_id=batch.id))
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
def batch(batch_id: int) -> ResponseReturnValue:
    found = _own_batch(batch_id)
    guide = current_library().guide(found.guide_id)
    return render_template("staff/batch.html", batch=found, guide=guide, parts=pdf_parts(found))


@bp.get("/omgang/<int:batch_id>.pdf")
@staff_required(*CARD_ROLES)
def batch_pdf(batch_id: int) -> ResponseReturnValue:
    found = _own_batch(batch_id)
    parts = pdf_parts(found)
    part = request.args.get("del", 1, type=int)
    if not 1 <= part <= len(parts):
        abort(404, _("Den delen av omgången finns inte."))
    language = str(get_locale() or "sv")
    cards = printable_cards(
        db.session,
        current_library(),
        found,
        offset=(part - 1) * PDF_PART_SIZE,
        limit=PDF_PART_SIZE,
        language=language,
    )
    buffer = io.BytesIO()
    write_cards_pdf(cards, buffer, wording=card_wording())
    buffer.seek(0)
    suffix = f"-del-{part}" if len(parts) > 1 else ""
    return send_file(
        buffer,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"aktiveringskort-{found.id}{suffix}.pdf",
    )


def card_wording() -> CardWording:
    """Return the words printed on the cards, in the language of the page that prints them."""
    return CardWording(
        instructions=_(
            "Gå till %(address)s och skriv in koden, eller skanna QR-koden. "
            "Koden kan bara användas en gång."
        ),
        expires=_("Koden gäller till och med %(date)s."),
        title=_("Aktiveringskort"),
    )


@bp.route("/kort/<int:card_id>/sparra", methods=["GET", "POST"])
@staff_required(*CARD_ROLES)
def revoke(card_id: int) -> ResponseReturnValue:
    """Ask first (GET), then revoke (POST) and go back to the list as it was filtered."""
    card = db.session.get(Card, card_id)
    if card is None or not _scope(g.staff).holds(card.organisation_id, card.unit_id):
        abort(404, _("Kortet finns inte."))
    # The list's address travels in the form (pages send no Referer), and only ever
    # to a page of this site.
    fallback = url_for("cards.index")
    listing = same_origin_path(
        request.values.get("next") or request.referrer,
        fallback,
        prefix=request.script_root + "/personal/kort",
    )
    if request.method == "GET":
        guide = current_library().guides.get(card.guide_id)
        return render_template("staff/revoke.html", card=card, guide=guide, listing=listing)
    back_to(listing)
    revoke_card(db.session, card, utcnow())
    return finish_post(_("Kortet %(code)s är spärrat.", code=card.code), listing)
