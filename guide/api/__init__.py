"""The JSON API under /api/v1, described by the OpenAPI document it serves."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request

from guide.api.openapi import openapi_document

api = Blueprint("api", __name__, url_prefix="/api/v1")


@api.before_request
def refuse_unknown_query_parameters() -> None:
    """Refuse query parameters the document does not name: a typo must not pass unseen."""
    from guide.api.auth import ApiError
    from guide.api.openapi import PATHS

    rule = request.url_rule
    if rule is None or not request.args:
        return
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(api.url_prefix or ""))
    operation = PATHS.get(path, {}).get(request.method.lower(), {})
    known = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    unknown = sorted(set(request.args) - known)
    if unknown:
        raise ApiError(
            400,
            "parameter_unknown",
            f"Parametern {unknown[0][:40]} finns inte här. Se /api/v1/openapi.json.",
            field=unknown[0][:40],
        )


@api.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify(openapi_document())


@api.get("/health")
def health():  # type: ignore[no-untyped-def]
    return jsonify({"status": "ok"})


# Route modules register their views on `api` and their paths in the OpenAPI document.
from guide.api import alerts, cards, me_actions, relatives  # noqa: E402, F401
