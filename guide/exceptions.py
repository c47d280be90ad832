"""The root of the product's domain errors: a stable code, a sentence for a person, a status."""

from __future__ import annotations


class GuideError(Exception):
    """Something a person asked for cannot be done; `message` says what to do instead.

    Views turn it into a flash message or a form error; the API into
    `{"error": code, "message": message}` with `status`.
    """

    def __init__(self, code: str, message: str, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
