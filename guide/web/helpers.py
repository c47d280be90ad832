"""Template helpers shared by every page: the language, local times, the crisis text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, g
from flask_babel import format_date, format_datetime, get_locale

from guide.content.model import Guide


def current_locale() -> str:
    return str(get_locale() or "sv")


def localtime(value: datetime | None, pattern: str = "d MMMM yyyy 'kl.' HH:mm") -> str:
    """Format an aware datetime in the service's time zone, the Swedish way."""
    if value is None:
        return ""
    return str(format_datetime(value, pattern))


def localdate(value: datetime | None) -> str:
    if value is None:
        return ""
    return str(format_date(value, "d MMMM yyyy"))


def crisis_text_for(guide: Guide) -> str | None:
    """Return the guide's crisis text in the relative's language, if it has one."""
    return guide.crisis.get(g.relative.language) if guide.crisis else None


def _template_globals() -> dict[str, Any]:
    return {"current_locale": current_locale}


def init_app(app: Flask) -> None:
    app.context_processor(_template_globals)
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(localdate, "localdate")
