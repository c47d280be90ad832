"""The API's one error surface: every error becomes `{"error": CODE, "message": TEXT}`."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from guide.errors import GuideError, say
from guide.extensions import db
from guide.http_errors import http_sentence


def api_error(status: int, code: str, message: str, **extra: Any) -> Response:
    """Return the API's JSON error shape with `status`."""
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def answer_domain_error(error: GuideError) -> Response:
    """Answer a domain error raised under /api/v1 in JSON, with the status it declares."""
    db.session.rollback()
    return api_error(error.status, error.code, say(error.message, gettext), **error.extra)


def answer_http_error(error: HTTPException, request_id: str | None = None) -> Response:
    """Answer an HTTP error under /api/ (no route, wrong method, too large, a 500) in JSON."""
    code = (error.name or "error").lower().replace(" ", "_")
    extra = {"request_id": request_id} if request_id else {}
    return api_error(error.code or 500, code, http_sentence(error), **extra)
