"""The JSON API under /api/v1, described by the OpenAPI document it serves."""

from __future__ import annotations

from flask import Blueprint, jsonify

from guide.api.openapi import openapi_document

api = Blueprint("api", __name__, url_prefix="/api/v1")


@api.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify(openapi_document())


@api.get("/health")
def health():  # type: ignore[no-untyped-def]
    return jsonify({"status": "ok"})


# Route modules register their views on `api` and their paths in the OpenAPI document.
from guide.api import alerts, cards, me_actions, relatives  # noqa: E402, F401
