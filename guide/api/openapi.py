"""The OpenAPI 3 document of the JSON API; each route module adds its own paths here."""

from __future__ import annotations

from typing import Any

from flask import url_for

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. code_used"},
        "message": {"type": "string", "description": "A sentence for a person, in Swedish"},
    },
}

PATHS: dict[str, dict[str, Any]] = {
    "/health": {
        "get": {
            "summary": "Check that the service answers",
            "responses": {"200": {"description": "The service is up"}},
        }
    },
}
SCHEMAS: dict[str, Any] = {"Error": ERROR_SCHEMA}


def document(path: str, method: str, spec: dict[str, Any]) -> None:
    """Add one operation to the document; called by each route module at import."""
    PATHS.setdefault(path, {})[method.lower()] = spec


def error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def json_response(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    return response


def openapi_document() -> dict[str, Any]:
    """Return the whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lots API",
            "version": "1",
            "description": "Activation, the relative's journey and staff follow-up. "
            "Errors are JSON {error, message}.",
        },
        "servers": [{"url": url_for("api.openapi", _external=True).rsplit("/", 1)[0]}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": PATHS,
    }
