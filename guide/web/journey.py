"""The relative's pages: Min guide and the module page."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from flask.typing import ResponseReturnValue

from guide.extensions import db
from guide.models.base import end_read, utcnow
from guide.services.library import current_library
from guide.services.reading import enrolment_of, journey_summaries, module_page
from guide.web.sessions import relative_required

bp = Blueprint("journey", __name__, url_prefix="/min-guide")


@bp.get("/")
@relative_required
def index() -> ResponseReturnValue:
    summaries = journey_summaries(db.session, current_library(), g.relative)
    end_read(db.session)
    crisis = next((s.guide.crisis for s in summaries if s.guide.crisis), None)
    return render_template(
        "relative/journey.html",
        summaries=summaries,
        # The newest request to be contacted that staff have not answered yet.
        contact_asked_at=max(
            (s.contact_asked_at for s in summaries if s.contact_asked_at), default=None
        ),
        crisis_text=crisis.get(g.relative.language) if crisis else None,
    )


@bp.get("/<int:enrolment_id>/<module_id>")
@relative_required
def module(enrolment_id: int, module_id: str) -> ResponseReturnValue:
    enrolment = enrolment_of(db.session, g.relative, enrolment_id)
    library = current_library()
    page = module_page(
        db.session,
        library,
        enrolment,
        module_id,
        utcnow(),
        current=request.args.get("text") == "ny",
    )
    guide = library.guide(enrolment.guide_id)
    html = render_template(
        "relative/module.html",
        page=page,
        enrolment=enrolment,
        guide=guide,
        crisis_text=guide.crisis.get(g.relative.language) if guide.crisis else None,
    )
    # Opening a released module marks it read. Committed once the page is rendered,
    # so that the page does not load the enrolment and the relative again, and with a
    # COMMIT even when nothing changed (see end_read).
    db.session.commit()
    return html
