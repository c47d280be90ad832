"""The root of the product's domain errors: a stable code, a sentence for a person, a status.

Every error a person can meet derives from `GuideError`. Each surface has one handler
for the root: a page shows the sentence (guide.web.errors), the API answers
`{"error": code, "message": sentence}` with the status the error declares
(guide.api.errors), a command prints it (guide.cli.group). Subclasses give their
wording once, in classmethod constructors. This module imports nothing, so the pure
core (guide.content, activation_codes) can raise GuideErrors too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Sentence(str):
    """A Swedish sentence that remembers its gettext msgid and values.

    It is an ordinary `str` (the Swedish wording), so commands, logs and tests read it
    as before; a surface that knows its reader's language calls `in_language(gettext)`
    to say it in that language. Written `N_("Koden %(code)s ...", code=code)`: `N_` is
    one of pybabel's default keywords, so the msgid lands in the catalogue.
    """

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Sentence:
        self = super().__new__(cls, msgid % values if values else msgid)
        self.msgid = msgid
        self.values = values
        return self

    def in_language(self, gettext: Callable[[str], str]) -> str:
        """Return the sentence as `gettext` translates its msgid, with the values filled in."""
        translated = gettext(self.msgid)
        return translated % self.values if self.values else translated


N_ = Sentence


def say(text: str, gettext: Callable[[str], str]) -> str:
    """Return `text` in the reader's language when it is a Sentence; other text as it is."""
    return text.in_language(gettext) if isinstance(text, Sentence) else text


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
