"""The JSON API under /api/v1, described by the OpenAPI document it serves.

One module per concept, named like its service (activations, login, journey,
checkins, needs, contact, cards, followup). Views validate bodies with the pydantic
models of `bodies`, call services and answer JSON; every GuideError becomes
`{"error", "message"}` with its status (api.errors). They may import services,
guide.mail, models and the pure core; never guide.web or guide.cli.
"""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from guide.api.auth import ApiError
from guide.api.errors import answer_domain_error
from guide.api.openapi import PATHS, openapi_document
from guide.errors import N_, GuideError

api = Blueprint("api", __name__, url_prefix="/api/v1")
api.register_error_handler(GuideError, answer_domain_error)


@api.before_request
def refuse_unknown_query_parameters() -> None:
    """Refuse query parameters the document does not name: a typo must not pass unseen."""

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
            N_(
                "Parametern %(name)s finns inte här. Se /api/v1/openapi.json.",
                name=unknown[0][:40],
            ),
            field=unknown[0][:40],
        )


@api.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())


@api.get("/health")
def health() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


# Route modules register their views on `api` and their paths in the OpenAPI document.
from guide.api import (  # noqa: E402
    activations,
    cards,
    checkins,
    contact,
    editor,
    followup,
    journey,
    local_facts,
    login,
    needs,
    privacy,
    profile,
    settings,
    stats,
)

ROUTE_MODULES = (
    *(activations, login, journey, checkins, profile, needs, contact, cards, followup),
    *(privacy, settings, editor),
)
ADMIN_ROUTE_MODULES = (local_facts, stats)
