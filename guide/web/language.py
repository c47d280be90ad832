"""The language switch on every page: a visitor's choice in a cookie, a relative's in their account.

`guide.extensions.select_locale` reads the choice back: a logged-in relative's
`Relative.language` (which their e-mails use too), else the cookie, else the
browser's Accept-Language, else Swedish.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh

from guide.extensions import LANGUAGE_COOKIE, LANGUAGES, db
from guide.security import same_origin_path

bp = Blueprint("language", __name__)

COOKIE_DAYS = 365


@bp.before_app_request
def choose_anew() -> None:
    """Pick the language afresh for each request, even where an app context outlives one."""
    refresh()


@bp.post("/sprak")
def choose() -> ResponseReturnValue:
    """Remember the chosen language and go back to the page the switch was on."""
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400, _("Välj svenska eller engelska."))
    back = same_origin_path(request.form.get("next"), url_for("public.index"))
    relative = g.get("relative")
    if relative is not None:
        relative.language = language
        db.session.commit()
    response = redirect(back, 303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=COOKIE_DAYS * 24 * 3600,
        path=request.script_root or "/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response
