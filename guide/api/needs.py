"""API: tick 'Ditt behov' after a module (POST /api/v1/me/needs)."""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.auth import relative_token_required
from guide.api.bodies import NeedsBody, enrolments_named, parse_body
from guide.extensions import db
from guide.models.base import utcnow
from guide.services.library import current_library
from guide.services.needs import NeedError, readable_module, tick_needs, ticked_needs


@api.post("/me/needs")
@relative_token_required
def tick_my_needs() -> ResponseReturnValue:
    body = parse_body(NeedsBody)
    module_id, need_ids = body.module, body.needs
    library = current_library()
    enrolment = None
    for candidate in enrolments_named(g.api_relative, body.enrolment):
        try:
            readable_module(library.guide(candidate.guide_id), candidate, module_id)
        except NeedError:
            continue
        enrolment = candidate
        break
    if enrolment is None:
        raise NeedError.module_unknown(module_id)
    new = tick_needs(
        db.session, library.guide(enrolment.guide_id), enrolment, module_id, need_ids, utcnow()
    )
    db.session.commit()
    return jsonify(
        {
            "enrolment": enrolment.id,
            "module": module_id,
            "ticked_now": new,
            "ticked": ticked_needs(db.session, enrolment, module_id),
        }
    )
