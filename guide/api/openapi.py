"""The OpenAPI 3 document of the JSON API; each route adds its own path here."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. card_already_used"},
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


def error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


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
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": PATHS,
    }
