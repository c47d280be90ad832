"""Render an outbox message from its template pair: subject, plain text, HTML and our headers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template, url_for
from flask_babel import force_locale

from guide.extensions import pinned_translations
from guide.mail.content import context_for
from guide.mail.unsubscribe import unsubscribe_token
from guide.models import OutboxMessage, Relative
from guide.models.base import DbSession


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def render_outbox_message(
    session: DbSession, message: OutboxMessage, now: datetime
) -> RenderedMail:
    """Render a message from its templates `email/<kind>.txt` and `email/<kind>.html`."""

    relative = session.get(Relative, message.relative_id) if message.relative_id else None
    language = relative.language if relative else "sv"
    with force_locale(language), pinned_translations():
        context = context_for(session, message, relative, now)
        subject = context.pop("subject")
        if relative is not None and relative.deleted_at is None:
            context.setdefault("settings_url", url_for("settings.index", _external=True))
        text = render_template(f"email/{message.kind}.txt", **context)
        html = render_template(f"email/{message.kind}.html", **context)
    headers = {"Message-ID": message_id(message)}
    if relative is not None and relative.deleted_at is None:
        link = url_for("public.unsubscribe", token=unsubscribe_token(relative), _external=True)
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return RenderedMail(subject, text, html, headers)


def message_id(message: OutboxMessage) -> str:
    """Return the Message-ID of a message: the same at every attempt, from its idempotency key."""
    host = current_app.base_url().host  # type: ignore[attr-defined]
    local = re.sub(r"[^A-Za-z0-9_-]+", ".", message.idempotency_key).strip(".")
    return f"<{local}@{host}>"
