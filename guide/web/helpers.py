"""Template helpers shared by every page: the language, local times, the crisis text."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, g, request
from flask_babel import format_date, format_datetime, get_locale, gettext, ngettext
from markupsafe import Markup, escape

from guide.content.model import Guide
from guide.errors import Sentence, say


def current_locale() -> str:
    return str(get_locale() or "sv")


TIME_PATTERNS = {"sv": "d MMMM yyyy 'kl.' HH:mm", "en": "d MMMM yyyy 'at' HH:mm"}


def localtime(value: datetime | None, pattern: str | None = None) -> str:
    """Format an aware datetime in the service's time zone, as the page's language writes it."""
    if value is None:
        return ""
    return str(
        format_datetime(value, pattern or TIME_PATTERNS.get(current_locale(), TIME_PATTERNS["sv"]))
    )


def localdate(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return str(format_date(value, "d MMMM yyyy"))


def waited(span: timedelta) -> str:
    """Say how long something took the way a person would: "efter 6 minuter", "efter 3 dagar"."""
    minutes = max(round(span.total_seconds() / 60), 0)
    if minutes < 60:
        return str(ngettext("efter %(num)s minut", "efter %(num)s minuter", max(minutes, 1)))
    hours = round(minutes / 60)
    if hours < 48:
        return str(ngettext("efter %(num)s timme", "efter %(num)s timmar", hours))
    return str(ngettext("efter %(num)s dag", "efter %(num)s dagar", round(hours / 24)))


# The national numbers the content may name (README: never invent one).
_PHONE_NUMBERS = re.compile(r"(?<![\d-])(112|1177|113 13|90101|116 111|077-150 50 50)(?![\d])")


def phone_links(text: str | None) -> Markup:
    """Return `text` escaped, with each national help number a `tel:` link."""
    if not text:
        return Markup("")
    escaped = str(escape(text))
    return Markup(
        _PHONE_NUMBERS.sub(
            lambda m: f'<a href="tel:{re.sub(r"[^0-9]", "", m.group(1))}">{m.group(1)}</a>', escaped
        )
    )


def crisis_text_for(guide: Guide) -> str | None:
    """Return the guide's crisis text in the relative's language, if it has one."""
    return guide.crisis.get(g.relative.language) if guide.crisis else None


def _other_language(value: object) -> str | None:
    language = getattr(value, "language", None) or None
    return language if language and language != current_locale() else None


def lang_of(value: object) -> Markup:
    """Return ` lang="sv"` for an element that holds `value`, when `value` fell back to Swedish.

    `value` is a `Localised` text (or anything with a `language`); nothing is returned
    when it is in the page's language.
    """
    language = _other_language(value)
    return Markup(' lang="%s"') % language if language else Markup("")


def in_lang(value: object) -> Markup:
    """Return `value` escaped, inside `<span lang="sv">` when it is not in the page's language."""
    language = _other_language(value)
    if language is None:
        return escape(value)
    return Markup('<span lang="%s">%s</span>') % (language, value)


def this_page() -> str:
    """Return the address of the page being shown, for a form that should come back to it."""
    return request.script_root + request.full_path.rstrip("?")


def _template_globals() -> dict[str, Any]:
    return {"current_locale": current_locale, "this_page": this_page}


def init_app(app: Flask) -> None:
    app.context_processor(_template_globals)
    # Globals, not context: the form macros imported from _forms.html use them too.
    app.jinja_env.globals.update(lang_of=lang_of, in_lang=in_lang)
    app.add_template_filter(_say, "say")
    app.jinja_env.globals.update(swedish_data=_swedish_data)
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(localdate, "localdate")
    app.add_template_filter(waited, "waited")
    app.add_template_filter(phone_links, "phone_links")


def _say(text: str) -> str:
    """A service's `N_` sentence in the page's language; any other text as it is."""
    return say(text, gettext)


def _swedish_data(text: str) -> Markup:
    """` lang="sv"` for text that comes from Swedish data (a guide's, a unit's name) on a
    page in another language; nothing for an `N_` sentence, which is translated."""
    if isinstance(text, Sentence) or current_locale() == "sv":
        return Markup("")
    return Markup(' lang="sv"')
