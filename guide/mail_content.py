"""What each kind of e-mail says: the template context for welcome, login, notice and alert mails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from guide.auth import create_login_token, login_link_lifetime, mail_link_lifetime
from guide.content.library import current_library
from guide.content.render import render_markdown, render_plain
from guide.local_facts import local_values
from guide.models import CheckinInstance, Enrolment, OutboxMessage, Relative, Release


def _external(endpoint: str, **values: Any) -> str:
    return current_app.config["GUIDE_BASE_URL"] + url_for(endpoint, **values)


def _login_url(session: Session, relative: Relative, now: datetime, requested: bool) -> str:
    lifetime = login_link_lifetime() if requested else mail_link_lifetime()
    token = create_login_token(session, relative, now, lifetime)
    return _external("public.login_with_token", token=token)


def context_for(
    session: Session, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    """Return the subject and template context for one outbox message."""
    builders = {
        "welcome": _welcome,
        "login": _login,
        "notice": _notice,
        "alert": _alert,
    }
    return builders[message.kind](session, message, relative, now)


def _welcome(
    session: Session, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    assert relative is not None
    enrolment = session.get(Enrolment, message.payload["enrolment_id"])
    assert enrolment is not None
    guide = current_library().guide(enrolment.guide_id)
    language = relative.language
    return {
        "subject": _("Välkommen till din guide"),
        "guide_title": guide.title.get(language),
        "modules": [_module_item(r, language) for r in enrolment.releases],
        "login_url": _login_url(session, relative, now, requested=False),
        "crisis": guide.crisis.get(language) if guide.crisis else None,
    }


def _login(
    session: Session, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    assert relative is not None
    minutes = current_app.config["GUIDE_LOGIN_LINK_MINUTES"]
    return {
        "subject": _("Din inloggningslänk"),
        "login_url": _login_url(session, relative, now, requested=True),
        "minutes": minutes,
    }


def _module_item(release: Release, language: str) -> dict[str, str]:
    texts = release.version.texts
    text = texts.get(language) or next(iter(texts.values()))
    return {"title": text["title"], "summary": text["summary"], "body": text["body"]}


def _notice(
    session: Session, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    assert relative is not None
    enrolment = session.get(Enrolment, message.enrolment_id)
    assert enrolment is not None
    library = current_library()
    guide = library.guide(enrolment.guide_id)
    language = relative.language
    releases = list(
        session.scalars(select(Release).where(Release.id.in_(message.payload.get("releases", []))))
    )
    checkins = list(
        session.scalars(
            select(CheckinInstance).where(
                CheckinInstance.id.in_(message.payload.get("checkins", []))
            )
        )
    )
    full_text = relative.full_text_email and not guide.sensitive
    values = local_values(session, enrolment.organisation_id)
    modules = []
    for release in releases:
        item = _module_item(release, language)
        if full_text:
            item["html"] = render_markdown(item["body"], values, library.local_facts)
            item["plain"] = render_plain(item["body"], values, library.local_facts)
        modules.append(item)
    return {
        "subject": _("Nytt avsnitt i din guide") if releases else _("Några frågor till dig"),
        "guide_title": guide.title.get(language),
        "modules": modules,
        "checkins": [
            guide.checkin(c.checkin_id).title.get(language)
            for c in checkins
            if _has_checkin(guide, c)
        ],
        "full_text": full_text,
        "login_url": _login_url(session, relative, now, requested=False),
    }


def _has_checkin(guide: Any, instance: CheckinInstance) -> bool:
    return any(c.id == instance.checkin_id for c in guide.checkins)


def _alert(
    session: Session, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    # Sent to staff: no personal details, only a link to the queue.
    return {
        "subject": _("Brådskande: en anhörig behöver kontakt"),
        "queue_url": _external("staff_followup.alert", alert_id=message.payload["alert_id"]),
    }
