"""The OpenAPI 3 document of the JSON API; each route module adds its own paths here."""

from __future__ import annotations

from typing import Any

from flask import url_for
from pydantic import BaseModel

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. code_used"},
        "message": {
            "type": "string",
            "description": (
                "A sentence for a person in the reader's language: the relative's chosen"
                " language, else Accept-Language (sv or en), else Swedish"
            ),
        },
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
    """Add one operation to the document; called by each route module at import.

    The answers every operation of its kind can give are added where the spec does
    not name them itself: 401 behind a token, 400 for bad input, 404 for a path id,
    413 for a body over the size limit.
    """
    responses = spec.setdefault("responses", {})
    parameters = spec.get("parameters", [])
    if spec.get("security"):
        responses.setdefault("401", error_response("unauthorized: no valid bearer token"))
    if spec.get("requestBody") or parameters:
        responses.setdefault("400", error_response("the request is not valid (see message)"))
    if spec.get("requestBody"):
        responses.setdefault("413", error_response("the body is larger than the API takes"))
    if any(parameter.get("in") == "path" for parameter in parameters):
        responses.setdefault("404", error_response("not found, or not yours"))
    PATHS.setdefault(path, {})[method.lower()] = spec


def path_parameter(
    name: str, schema: dict[str, Any] | None = None, description: str | None = None
) -> dict[str, Any]:
    """Describe the path parameter `name`: an integer id unless `schema` says otherwise."""
    parameter: dict[str, Any] = {"name": name, "in": "path", "required": True}
    if description is not None:
        parameter["description"] = description
    parameter["schema"] = schema or {"type": "integer"}
    return parameter


def error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def json_body(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """Document a request body from the pydantic model the route validates it with."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        SCHEMAS[name] = definition
    SCHEMAS[model.__name__] = schema
    return {
        "required": required,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
        },
    }


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
