"""Error pages for people: one handler for every domain error, HTTP error and CSRF failure.

A view does not catch and translate a domain error: it raises (or lets a service
raise) a GuideError, and the page handler shows its sentence. For a form that posts,
the view may say where the person should land with `back_to(url)`: the sentence is
then flashed there; errors about a form's own field are shown at the field with
guide.web.forms.FieldErrors. Everything else gets the error page with the status
the error declares.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from guide.errors import GuideError, say
from guide.extensions import db
from guide.http_errors import http_sentence


def back_to(url: str) -> None:
    """Say where a domain error of this form post is shown: flashed on the page at `url`."""
    g.back_to = url


def page_for_domain_error(error: GuideError) -> ResponseReturnValue:
    db.session.rollback()
    back = g.get("back_to")
    if back and request.method != "GET" and error.status not in (403, 404):
        flash(say(error.message, _), "error")
        return redirect(back)
    return error_page(error.status, say(error.message, _))


def page_for_http_error(error: HTTPException, request_id: str | None = None) -> ResponseReturnValue:
    status = error.code or 500
    return error_page(status, http_sentence(error), request_id)


def page_for_csrf_error(error: CSRFError) -> ResponseReturnValue:
    return error_page(400, _("Formuläret hade gått ut. Ladda om sidan och försök igen."))


def error_page(status: int, message: str, request_id: str | None = None) -> ResponseReturnValue:
    page = render_template("error.html", status=status, message=message, request_id=request_id)
    return page, status
