"""The local inbox: mail captured when no MAIL_SERVER is set, readable only in the demo."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from guide.extensions import db
from guide.models import CapturedMail

bp = Blueprint("inbox", __name__, url_prefix="/inkorg")


@bp.before_request
def only_when_captured_in_demo() -> None:
    # Captured mail holds login links: never show it outside a demo or a test.
    if not (current_app.config["GUIDE_CAPTURE_MAIL"] and current_app.config["GUIDE_DEMO"]):
        abort(404)


@bp.get("/")
def index() -> ResponseReturnValue:
    mails = db.session.scalars(select(CapturedMail).order_by(CapturedMail.id.desc()).limit(200))
    return render_template("inbox/list.html", mails=list(mails))


@bp.get("/<int:mail_id>")
def show(mail_id: int) -> ResponseReturnValue:
    mail = db.session.get(CapturedMail, mail_id) or abort(404, f"Meddelande {mail_id} finns inte.")
    return render_template("inbox/show.html", mail=mail)
