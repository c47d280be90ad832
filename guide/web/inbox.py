"""The local inbox: mail captured when no MAIL_SERVER is set, readable only in the demo."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from guide.errors import N_
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
    return render_template("inbox/list.html", mails=[InboxMail(m) for m in mails])


@bp.get("/<int:mail_id>")
def show(mail_id: int) -> ResponseReturnValue:
    return render_template("inbox/show.html", mail=InboxMail(_mail(mail_id)))


# The mail as sent, styles and all, and nothing that could run: a sandbox of its own.
MAIL_POLICY = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)


@bp.get("/<int:mail_id>/html")
def html_body(mail_id: int) -> ResponseReturnValue:
    """Show the HTML part of a mail exactly as a mail program would get it."""
    mail = _mail(mail_id)
    response = Response(mail.html_body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


_HTML_LANG = re.compile(r'<html[^>]*\blang="([a-z]{2})"')


class InboxMail:
    """A captured mail as the inbox shows it, with the language it was written in.

    The mail's own `<html lang>` says which language its relative reads, so the
    inbox can mark a Swedish mail `lang="sv"` on an English page.
    """

    def __init__(self, mail: CapturedMail) -> None:
        self.mail = mail
        found = _HTML_LANG.search(mail.html_body or "")
        self.language = found.group(1) if found else ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.mail, name)


def _mail(mail_id: int) -> CapturedMail:
    mail = db.session.get(CapturedMail, mail_id)
    if mail is None:
        abort(404, N_("Meddelande %(id)s finns inte.", id=mail_id))
    return mail
