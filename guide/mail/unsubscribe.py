"""One-click unsubscribe links (RFC 8058): a signed token per relative."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from guide.models import Relative


def _unsubscribe_serializer() -> URLSafeSerializer:
    """The app's serializer for unsubscribe tokens, made once (its key derivation is not free)."""
    key = current_app.config["SECRET_KEY"]
    cached = current_app.extensions.get("lots_unsubscribe")
    if cached is None or cached[0] != key:
        cached = (key, URLSafeSerializer(key, salt="unsubscribe"))
        current_app.extensions["lots_unsubscribe"] = cached
    serializer: URLSafeSerializer = cached[1]
    return serializer


def unsubscribe_token(relative: Relative) -> str:
    return _unsubscribe_serializer().dumps(relative.id)


def relative_for_unsubscribe(token: str) -> int | None:
    try:
        value = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None
