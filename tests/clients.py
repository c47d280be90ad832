"""Test clients that behave like the browsers and mail clients that use the product."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer


class FormClient(FlaskClient):
    """A test client that sends a form's CSRF token, as a browser that loaded the form does.

    CSRF protection stays on in the tests, as in every deployment; posting a form
    without a token is what `raw_client` is for.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        method = str(kwargs.get("method", "GET")).upper()
        data = kwargs.get("data")
        path = args[0] if args and isinstance(args[0], str) else ""
        if (
            method in ("POST", "PUT", "PATCH", "DELETE")
            and "json" not in kwargs
            and (data is None or isinstance(data, dict))
            and not path.startswith("/api/")
            and "csrf_token" not in (data or {})
        ):
            kwargs["data"] = {**(data or {}), "csrf_token": self.csrf_token()}
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """Return a CSRF token for this client's session, as a form page would carry it."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return str(serializer.dumps(raw))
