"""The organisation admin's view of e-mail that did not get through: failed and retrying messages."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from flask_babel import gettext as _

from guide.auth import staff_required
from guide.extensions import db
from guide.mailer import masked_address, undelivered_messages
from guide.models import StaffRole

bp = Blueprint("admin_mail", __name__, url_prefix="/admin/e-post")
SHOWN = 200


@bp.get("/")
@staff_required(StaffRole.ORG_ADMIN)
def problems():  # type: ignore[no-untyped-def]
    """List the organisation's failed and retrying messages, never their contents."""
    staff = g.staff
    if staff.organisation_id is None and staff.role != StaffRole.ADMIN:
        abort(403, _("Ditt konto hör inte till någon organisation."))
    # A system admin who belongs to no organisation sees every organisation's messages.
    rows = db.session.execute(undelivered_messages(staff.organisation_id).limit(SHOWN)).all()
    return render_template("admin/mail.html", rows=rows, shown=SHOWN, masked=masked_address)
