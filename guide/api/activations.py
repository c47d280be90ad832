"""API: redeem an activation card and enrol (POST /api/v1/activations)."""

from __future__ import annotations

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.bodies import (
    ActivationBody,
    parse_body,
)
from guide.extensions import db, limiter
from guide.mail.background import send_after_request
from guide.models import ConsentPurpose
from guide.models.base import utcnow
from guide.rate_limits import REDEMPTION_LIMIT, code_key, failed
from guide.services.accounts import issue_api_token
from guide.services.cards import local_today
from guide.services.enrolment import Redemption, redeem_card
from guide.services.library import current_library
from guide.services.reading import journey_summary


@api.post("/activations")
@limiter.shared_limit(REDEMPTION_LIMIT, "redeem-client", deduct_when=failed)
@limiter.shared_limit(REDEMPTION_LIMIT, "redeem-code", key_func=code_key, deduct_when=failed)
def create_activation() -> ResponseReturnValue:
    """Redeem a card; the answer is the same whether or not the address has an account."""
    body = parse_body(ActivationBody)
    consents = {purpose: bool(getattr(body.consents, purpose.value)) for purpose in ConsentPurpose}
    now = utcnow()
    enrolment, first_mail = redeem_card(
        db.session,
        current_library(),
        Redemption(
            code=body.code,
            email=body.email,
            consents=consents,
            language=body.language,
            profile=body.profile,
            timezone=current_app.config["GUIDE_TIMEZONE"],
        ),
        now,
        local_today(now),
    )
    # The card proved the card, not the address: the token reaches this enrolment only.
    token = issue_api_token(
        db.session, now, relative_id=enrolment.relative_id, address_proved=False
    )
    db.session.commit()
    send_after_request(first_mail)
    summary = journey_summary(db.session, current_library(), enrolment)
    return jsonify({"enrolment": summary.as_json(), "token": token}), 201
