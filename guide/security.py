"""What every request and response passes through: ids, size limits, input guards, headers."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request
from werkzeug.routing import IntegerConverter

# Ids are INTEGER in the database: 32 bits on PostgreSQL. A bigger one in a URL is no
# route (404), instead of an overflow deep in the driver (a 500).
MAX_DATABASE_ID = 2**31 - 1
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in a route, but only for numbers an id column can hold."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_DATABASE_ID)
        super().__init__(map, *args, **kwargs)


def start_request() -> None:
    """Give the request an id for the logs, cap the body, and refuse NUL characters.

    PostgreSQL cannot store NUL in text, so a NUL anywhere in the path, the query or
    a form is refused here with a 400 rather than failing in the database.
    """
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if REQUEST_ID.fullmatch(offered) else secrets.token_hex(8)
    if request.path.startswith("/api/"):
        request.max_content_length = _config("GUIDE_MAX_JSON_BYTES")
    if "\x00" in request.path or _has_nul(request.args.items(multi=True)):
        abort(400)
    if request.mimetype in FORM_TYPES and _has_nul(request.form.items(multi=True)):
        abort(400)


def _config(key: str) -> int:

    return int(current_app.config[key])


def _has_nul(pairs: Any) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def same_origin_path(target: str | None, fallback: str, prefix: str = "/") -> str:
    """Return `target` if it is a path on this site under `prefix`, else `fallback`.

    Accepts a path ("/personal/kort?sida=2") or a full URL of this very host (a
    Referer); refuses other hosts, scheme-relative "//evil" and backslash tricks.
    """
    if not target:
        return fallback
    parts = urlsplit(target)
    foreign = parts.scheme not in ("http", "https") or parts.netloc != request.host
    if (parts.scheme or parts.netloc) and foreign:
        return fallback
    path = parts.path
    if (
        not path.startswith(prefix)
        or path.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 for ch in target)
    ):
        return fallback
    return path + (f"?{parts.query}" if parts.query else "")


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response: Response) -> Response:
    """Add the standard headers; login links travel in URLs, so no Referer leaves the site."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def finish_response(response: Response) -> Response:
    """Name the request in the answer and keep personal pages out of every cache.

    Only the static files may be cached; every page and API answer may hold
    personal data (a journey, a card code, a queue), so none is stored anywhere.
    """
    request_id = g.get("request_id")
    if request_id:
        response.headers.setdefault("X-Request-ID", request_id)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Pragma", "no-cache")
    return response


def set_transport_security(response: Response) -> Response:
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.before_request(start_request)
    app.after_request(set_security_headers)
    app.after_request(finish_response)
    if app.config["GUIDE_BASE_URL"].startswith("https://"):
        app.after_request(set_transport_security)
