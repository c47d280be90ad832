"""The API's one error surface: every error becomes `{"error": CODE, "message": TEXT}`."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from guide.errors import GuideError


def api_error(status: int, code: str, message: str, **extra: Any) -> Response:
    """Return the API's JSON error shape with `status`."""
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def answer_domain_error(error: GuideError) -> Response:
    """Answer a domain error raised under /api/v1 in JSON, with the status it declares."""
    return api_error(error.status, error.code, error.message, **error.extra)
