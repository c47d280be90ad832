"""Admin pages for local facts: every declared key, the organisation's value and units' overrides."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from guide.content.render import plain_value_html, render_markdown
from guide.extensions import db
from guide.models import Organisation, StaffRole, Unit
from guide.models.base import utcnow
from guide.services.admin import units_of
from guide.services.library import current_library
from guide.services.local_facts import fact_catalogue, fact_uses, local_values, set_local_fact
from guide.web.forms import FieldErrors, finish_post
from guide.web.sessions import staff_required

bp = Blueprint("local_facts", __name__, url_prefix="/admin/lokala-uppgifter")


def _organisation() -> Organisation:
    organisation = g.staff.organisation
    if organisation is None:
        abort(403, _("Ditt konto hör inte till någon organisation."))
    return organisation  # type: ignore[no-any-return]


@bp.get("/")
@staff_required(StaffRole.ORG_ADMIN)
def index() -> ResponseReturnValue:
    """List every declared key, grouped by the guides whose modules use it."""
    organisation = _organisation()
    library = current_library()
    return render_template(
        "admin/local_facts.html",
        organisation=organisation,
        groups=fact_catalogue(db.session, library, organisation.id),
        guides=library.guides,
        units={unit.id: unit for unit in units_of(db.session, organisation.id)},
        value_html=plain_value_html,
    )


def _key(key: str) -> str:
    if key not in current_library().local_facts:
        abort(404, _("Det finns ingen sådan lokal uppgift."))
    return key


@bp.route("/<key>", methods=["GET", "POST"])
@staff_required(StaffRole.ORG_ADMIN)
def edit(key: str) -> ResponseReturnValue:
    """Set the organisation's value or a unit's override, and preview a module that uses it."""
    organisation = _organisation()
    key = _key(key)
    library = current_library()
    units = units_of(db.session, organisation.id)
    errors = FieldErrors()
    if request.method == "POST":
        unit_value = request.form.get("unit", "")
        unit: Unit | None = None
        if unit_value:
            unit = next((u for u in units if str(u.id) == unit_value), None)
            if unit is None:
                abort(404, _("Enheten finns inte i din organisation."))
        prefix = f"unit-{unit.id}-" if unit else "org-"
        with errors.collect(prefix):
            set_local_fact(
                db.session,
                library,
                organisation,
                key,
                request.form.get("value", ""),
                utcnow(),
                g.staff,
                unit,
            )
            return finish_post(
                _("Uppgiften är sparad."),
                url_for(".edit", key=key, enhet=unit.id if unit else None),
            )
    fact = library.local_facts[key]
    catalogue = {
        entry.fact.key: entry
        for group in fact_catalogue(db.session, library, organisation.id)
        for entry in group.entries
    }
    entry = catalogue[key]
    shown_unit = next((u for u in units if u.id == request.args.get("enhet", type=int)), None)
    uses = fact_uses(library).get(key, [])
    preview = None
    if uses:
        use = uses[0]
        text = use.module.original
        values = local_values(db.session, organisation.id, shown_unit.id if shown_unit else None)
        preview = {
            "guide": library.guide(use.guide_id),
            "module": use.module,
            "title": text.title,
            "html": render_markdown(text.body, values, library.local_facts, lambda _target: None),
        }
    return (
        render_template(
            "admin/local_fact.html",
            fact=fact,
            entry=entry,
            units=units,
            shown_unit=shown_unit,
            uses=uses,
            guides=library.guides,
            preview=preview,
            errors=errors,
            form=request.form,
            value_html=plain_value_html,
        ),
        400 if errors else 200,
    )
