"""Error pages for people; HTTP errors under /api/ are answered in the API's JSON shape."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from guide.api.errors import api_error
from guide.extensions import db

_MESSAGES = {
    400: "Något i förfrågan var fel. Gå tillbaka och försök igen.",
    401: "Du behöver logga in för att se den här sidan.",
    403: "Du har inte behörighet till den här sidan.",
    404: "Sidan finns inte. Kontrollera adressen eller gå till startsidan.",
    405: "Det går inte att göra så här på den här sidan.",
    413: "Det du skickade var för stort. Korta ner texten och försök igen.",
    429: "Du har försökt för många gånger. Vänta en stund och försök igen.",
    500: "Något gick fel hos oss. Försök igen om en stund.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _handle_http(error: HTTPException):  # type: ignore[no-untyped-def]
    status = error.code or 500
    if status >= 500:
        db.session.rollback()
    message = error.description if _is_specific(error) else _(_MESSAGES.get(status, _MESSAGES[500]))
    # A 500 names its request, so support can find the traceback in the log.
    request_id = g.get("request_id") if status >= 500 else None
    if wants_json():
        code = (error.name or "error").lower().replace(" ", "_")
        return api_error(
            status, code, message, **({"request_id": request_id} if request_id else {})
        )
    page = render_template("error.html", status=status, message=message, request_id=request_id)
    return page, status


def _is_specific(error: HTTPException) -> bool:
    """A view that aborts with its own reason keeps it; Werkzeug's English defaults do not."""
    return type(error).description != error.description


def _handle_csrf(error: CSRFError):  # type: ignore[no-untyped-def]
    message = _("Formuläret hade gått ut. Ladda om sidan och försök igen.")
    return render_template("error.html", status=400, message=message), 400


def _handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
    if isinstance(error, HTTPException):  # Flask sends these here too when nothing closer matches
        return _handle_http(error)
    db.session.rollback()
    current_app.logger.error(
        "Unhandled error in %s %s (request %s)",
        request.method,
        request.path,
        g.get("request_id", "-"),
        exc_info=error,
    )
    return _handle_http(InternalServerError(original_exception=error))


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    # Also when testing: a test sees what a person sees, and the traceback is in the log.
    app.register_error_handler(Exception, _handle_unexpected)
