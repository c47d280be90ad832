"""The organisation admin's view of e-mail that did not get through: failed and retrying messages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select

from guide.extensions import db
from guide.mail.delivery import UNRENDERABLE
from guide.mail.problems import masked_address, retry_message, undelivered_messages
from guide.models import OutboxMessage, StaffRole
from guide.models.base import utcnow
from guide.services.cards import local_today
from guide.services.retention import retention_counts
from guide.web.sessions import staff_required

bp = Blueprint("mail_problems", __name__, url_prefix="/admin/e-post")
SHOWN = 200


@bp.get("/")
@staff_required(StaffRole.ORG_ADMIN)
def problems() -> ResponseReturnValue:
    """List the organisation's failed and retrying messages, never their contents."""
    query = undelivered_messages(_organisation_seen())
    rows = db.session.execute(query.limit(SHOWN)).all()
    unrenderable = db.session.scalar(
        select(func.count()).select_from(
            query.where(OutboxMessage.status == UNRENDERABLE).order_by(None).subquery()
        )
    )
    return render_template(
        "admin/mail.html",
        rows=rows,
        shown=SHOWN,
        masked=masked_address,
        unrenderable=unrenderable,
        UNRENDERABLE=UNRENDERABLE,
        retention=retention_counts(db.session, _organisation_seen(), local_today(utcnow())),
    )


@bp.post("/<int:message_id>/forsok-igen")
@staff_required(StaffRole.ORG_ADMIN)
def retry(message_id: int) -> ResponseReturnValue:
    """Send a message that could not be rendered again at the next delivery pass."""
    query = undelivered_messages(_organisation_seen()).where(
        OutboxMessage.id == message_id, OutboxMessage.status == UNRENDERABLE
    )
    row = db.session.execute(query).first()
    if row is None:
        abort(404)
    retry_message(db.session, row[0], utcnow())
    db.session.commit()
    flash(_("Brevet provas igen vid nästa utskick, inom en minut."))
    return redirect(url_for(".problems"))


def _organisation_seen() -> int | None:
    """Return whose messages the admin sees: their organisation's, or (system admin) all."""
    staff = g.staff
    if staff.organisation_id is None and staff.role != StaffRole.ADMIN:
        abort(403, _("Ditt konto hör inte till någon organisation."))
    return staff.organisation_id  # type: ignore[no-any-return]
