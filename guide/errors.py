"""The root of the product's domain errors: a stable code, a sentence for a person, a status.

Every error a person can meet derives from `GuideError`. Each surface has one handler
for the root: a page shows the sentence (guide.web.errors), the API answers
`{"error": code, "message": sentence}` with the status the error declares
(guide.api.errors), a command prints it (guide.cli.group). Subclasses give their
wording once, in classmethod constructors. This module imports nothing, so the pure
core (guide.content, activation_codes) can raise GuideErrors too.
"""

from __future__ import annotations

from typing import Any


class GuideError(Exception):
    """Something a person asked for cannot be done; `message` says what to do instead.

    `field` names the form field or body field the error is about, if any; `extra`
    goes into the API's JSON answer beside `error` and `message`.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        field: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.extra = {**({"field": field} if field else {}), **extra}
