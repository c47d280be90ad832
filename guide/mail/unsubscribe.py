"""One-click unsubscribe links (RFC 8058): a signed token per relative."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from guide.models import Relative


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_token(relative: Relative) -> str:
    return _unsubscribe_serializer().dumps(relative.id)


def relative_for_unsubscribe(token: str) -> int | None:
    try:
        value = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None
