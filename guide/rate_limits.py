"""Rate limits that pages and the API share: failures only, so the person who types right is never slowed.

Redemption attempts are limited per client and per typed code across /aktivera and
POST /api/v1/activations (one shared budget, not one per surface).
"""

from __future__ import annotations

import json

from flask import request
from werkzeug.wrappers import Response

# Only failed attempts count: a relative who types right is never slowed down.
REDEMPTION_LIMIT = "10 per minute;30 per hour"


def failed(response: Response) -> bool:
    """Count a request against its limit only if it failed."""
    return response.status_code >= 400


def code_key() -> str:
    """Limit attempts on one code too, whoever makes them."""
    raw = request.form.get("code") or ""
    if not raw and request.is_json:
        try:
            body = json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError):
            body = None
        code = body.get("code") if isinstance(body, dict) else None
        raw = code if isinstance(code, str) else ""
    return "code:" + "".join(raw.split()).upper().replace("-", "")[:32]
