"""API: ask to be contacted (POST /api/v1/me/contact-request)."""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from guide.api import api
from guide.api.auth import relative_token_required
from guide.api.bodies import ContactRequestBody, enrolments_named, parse_body
from guide.extensions import db, limiter
from guide.models import Relative
from guide.models.base import utcnow
from guide.services.contact import ContactRequest, request_contact


@api.post("/me/contact-request")
@relative_token_required
@limiter.limit("10 per hour")
def request_my_contact() -> ResponseReturnValue:
    body = parse_body(ContactRequestBody, optional=True)
    relative: Relative = g.api_relative
    enrolments = enrolments_named(relative, body.enrolment)
    phone = body.phone or ""
    # Without a phone number the relative is reached at the address of the account.
    email = body.email or ("" if phone else relative.email or relative.claimed_email or "")
    alert = request_contact(
        db.session,
        relative,
        enrolments[0] if enrolments else None,
        ContactRequest(
            phone=phone,
            email=email,
            message=body.message or "",
            consent=body.consent,
        ),
        utcnow(),
    )
    db.session.commit()
    return jsonify(
        {
            "enrolment": alert.enrolment_id,
            "status": "requested",
            "message": gettext(
                "Tack. Personalen på enheten som gav dig kortet hör av sig till dig."
            ),
        }
    ), 201
