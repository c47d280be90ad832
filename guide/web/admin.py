"""Admin pages: an organisation's units and staff; for the system admin, the organisations."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import func, select

from guide.extensions import db
from guide.mail.background import send_after_request
from guide.models import Organisation, StaffRole, StaffUser, Unit
from guide.models.base import utcnow
from guide.services.admin import (
    AdminError,
    add_unit,
    change_unit,
    create_organisation_with_admin,
    invite_staff,
    roles_granted_by,
    staff_of,
    stop_account,
    units_of,
)
from guide.web.errors import back_to
from guide.web.forms import FieldErrors, finish_post
from guide.web.sessions import staff_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_NAMES = {
    StaffRole.STAFF: lazy_gettext("Personal på en enhet"),
    StaffRole.ORG_ADMIN: lazy_gettext("Administratör för organisationen"),
    StaffRole.EDITOR: lazy_gettext("Redaktör för innehållet"),
    StaffRole.ADMIN: lazy_gettext("Systemadministratör"),
}


def _role_names() -> dict[str, str]:
    return {role.value: str(name) for role, name in ROLE_NAMES.items()}


def _own_organisation() -> Organisation:
    """The organisation the logged-in admin manages; a system admin of none has no such page."""
    organisation = g.staff.organisation
    if organisation is None:
        abort(403, _("Ditt konto hör inte till någon organisation."))
    return organisation  # type: ignore[no-any-return]


def _page(errors: FieldErrors | None = None, status: int = 200) -> ResponseReturnValue:
    staff: StaffUser = g.staff
    errors = errors if errors is not None else FieldErrors()
    form = request.form if request.method == "POST" else {}
    common = {
        "errors": errors,
        "form": form,
        "roles": roles_granted_by(staff),
        "role_names": _role_names(),
    }
    if staff.organisation is None:
        organisations = db.session.execute(
            select(Organisation, func.count(Unit.id))
            .outerjoin(Unit, Unit.organisation_id == Organisation.id)
            .group_by(Organisation.id)
            .order_by(Organisation.name)
        ).all()
        return render_template("admin/system.html", organisations=organisations, **common), status
    organisation = staff.organisation
    return (
        render_template(
            "admin/index.html",
            organisation=organisation,
            units=units_of(db.session, organisation.id),
            staff_members=staff_of(db.session, organisation.id),
            **common,
        ),
        status,
    )


@bp.get("/")
@staff_required(StaffRole.ORG_ADMIN)
def index() -> ResponseReturnValue:
    """The admin's landing page: their organisation, or (system admin) every organisation."""
    return _page()


@bp.post("/enheter")
@staff_required(StaffRole.ORG_ADMIN)
def create_unit() -> ResponseReturnValue:
    organisation = _own_organisation()
    errors = FieldErrors()
    form = request.form
    with errors.collect("unit-"):
        unit = add_unit(
            db.session,
            organisation,
            form.get("slug", "").strip(),
            form.get("name", ""),
            form.get("contact", ""),
        )
        return finish_post(_("Enheten %(name)s är skapad.", name=unit.name), url_for(".index"))
    return _page(errors, 400)


def _own_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.organisation_id != _own_organisation().id:
        abort(404, _("Enheten finns inte i din organisation."))
    return unit


@bp.post("/enheter/<int:unit_id>")
@staff_required(StaffRole.ORG_ADMIN)
def update_unit(unit_id: int) -> ResponseReturnValue:
    unit = _own_unit(unit_id)
    errors = FieldErrors()
    with errors.collect(f"unit-{unit.id}-"):
        change_unit(db.session, unit, request.form.get("name", ""), request.form.get("contact", ""))
        return finish_post(_("Enheten %(name)s är sparad.", name=unit.name), url_for(".index"))
    return _page(errors, 400)


@bp.post("/personal")
@staff_required(StaffRole.ORG_ADMIN)
def invite() -> ResponseReturnValue:
    """Invite a colleague by e-mail; the mail carries the one-time link to set a password."""
    staff: StaffUser = g.staff
    organisation = staff.organisation
    if organisation is None and staff.role != StaffRole.ADMIN:
        abort(403)
    form = request.form
    errors = FieldErrors()
    try:
        role = StaffRole(form.get("role", ""))
    except ValueError:
        errors["invite-role"] = AdminError.role_invalid().message
        return _page(errors, 400)
    if organisation is None and role is not StaffRole.EDITOR:
        # The system admin invites organisation admins with a new organisation.
        raise AdminError.role_forbidden()
    unit = None
    unit_value = form.get("unit", "")
    if role is StaffRole.STAFF and unit_value:
        unit = db.session.get(Unit, int(unit_value)) if unit_value.isdigit() else None
        if unit is None or organisation is None or unit.organisation_id != organisation.id:
            errors["invite-unit"] = AdminError.unit_required().message
            return _page(errors, 400)
    back_to(url_for(".index"))
    with errors.collect("invite-"):
        account, message = invite_staff(
            db.session, staff, organisation, form.get("email", ""), role, unit, utcnow()
        )
        db.session.commit()
        send_after_request(message)
        flash(
            _(
                "%(email)s har fått ett brev med en länk för att välja lösenord.",
                email=account.email,
            ),
            "success",
        )
        return redirect(url_for(".index"))
    return _page(errors, 400)


@bp.post("/personal/<int:staff_id>/stang-av")
@staff_required(StaffRole.ORG_ADMIN)
def deactivate(staff_id: int) -> ResponseReturnValue:
    """Stop an account at once: it cannot log in, its sessions and API tokens stop."""
    staff: StaffUser = g.staff
    account = db.session.get(StaffUser, staff_id)
    if account is None or (
        staff.role != StaffRole.ADMIN and account.organisation_id != staff.organisation_id
    ):
        abort(404, _("Kontot finns inte i din organisation."))
    back_to(url_for(".index"))
    stop_account(db.session, staff, account, utcnow())
    return finish_post(_("Kontot %(email)s är avstängt.", email=account.email), url_for(".index"))


@bp.post("/organisationer")
@staff_required(StaffRole.ADMIN)
def create_organisation() -> ResponseReturnValue:
    """Create an organisation and invite its first organisation admin (system admin)."""
    form = request.form
    errors = FieldErrors()
    with errors.collect("org-"):
        organisation, admin, message = create_organisation_with_admin(
            db.session,
            g.staff,
            form.get("slug", "").strip(),
            form.get("name", ""),
            form.get("email", ""),
            utcnow(),
        )
        db.session.commit()
        send_after_request(message)
        flash(
            _(
                "%(name)s är skapad. %(email)s har fått ett brev för att välja lösenord.",
                name=organisation.name,
                email=admin.email,
            ),
            "success",
        )
        return redirect(url_for(".index"))
    return _page(errors, 400)
