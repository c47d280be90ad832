"""What each kind of e-mail says: the template context for welcome, login, notice and alert mails."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from guide.content.render import render_markdown, render_plain
from guide.models import (
    CheckinInstance,
    Enrolment,
    OutboxMessage,
    Relative,
    Release,
    StaffUser,
)
from guide.models.base import DbSession
from guide.services.library import current_library
from guide.services.local_facts import local_values
from guide.services.login import (
    create_login_token,
    login_link_lifetime,
    mail_link_lifetime,
    new_login_token,
)
from guide.services.passwords import LINK_DAYS, password_link
from guide.services.reading import version_text
from guide.services.settings import EMAIL_CHANGE_HOURS, email_change_token

# While the delivery pass renders a batch, the login tokens its mails carry wait here
# and are inserted together afterwards (one statement, no savepoint per mail).
_deferred_tokens: ContextVar[list[dict[str, Any]] | None] = ContextVar(
    "lots_deferred_login_tokens", default=None
)


@contextmanager
def deferring_login_tokens() -> Iterator[list[dict[str, Any]]]:
    """Collect the login-token rows (column values) rendering makes, instead of inserting each.

    The caller adds the rows of the mails that rendered; a mail that failed to render
    leaves nothing behind.
    """
    tokens: list[dict[str, Any]] = []
    reset = _deferred_tokens.set(tokens)
    try:
        yield tokens
    finally:
        _deferred_tokens.reset(reset)


def _login_url(
    session: DbSession,
    relative: Relative,
    now: datetime,
    requested: bool,
    attach: Relative | None = None,
) -> str:
    lifetime = login_link_lifetime() if requested else mail_link_lifetime()
    deferred = _deferred_tokens.get()
    if deferred is None:
        token = create_login_token(session, relative, now, lifetime, attach=attach)
    else:
        token, row = new_login_token(relative, now, lifetime, attach)
        deferred.append(row)
    return url_for("public.login_with_token", token=token, _external=True)


def prefetch(session: DbSession, messages: Iterable[OutboxMessage]) -> list[object]:
    """Load what rendering `messages` will read: a query per table, not several per message.

    The builders below find the rows in the session's identity map. That map holds
    its objects weakly, so keep the returned list until the messages are rendered.
    """
    messages = list(messages)
    relative_ids = {m.relative_id for m in messages if m.relative_id is not None}
    # A welcome mail lists every module released so far; other mails name their own.
    welcomed = {m.enrolment_id for m in messages if m.kind == "welcome" and m.enrolment_id}
    enrolment_ids = {m.enrolment_id for m in messages if m.enrolment_id is not None} - welcomed
    release_ids = {i for m in messages if m.kind == "notice" for i in m.payload.get("releases", [])}
    checkin_ids = {i for m in messages if m.kind == "notice" for i in m.payload.get("checkins", [])}
    loaded: list[object] = []
    if relative_ids:
        loaded += session.scalars(select(Relative).where(Relative.id.in_(relative_ids))).all()
    if welcomed:
        loaded += session.scalars(
            select(Enrolment)
            .where(Enrolment.id.in_(welcomed))
            .options(selectinload(Enrolment.releases).selectinload(Release.version))
        ).all()
    if enrolment_ids:
        loaded += session.scalars(select(Enrolment).where(Enrolment.id.in_(enrolment_ids))).all()
    if release_ids:
        loaded += session.scalars(
            select(Release)
            .where(Release.id.in_(release_ids))
            .options(selectinload(Release.version))
        ).all()
    if checkin_ids:
        loaded += session.scalars(
            select(CheckinInstance).where(CheckinInstance.id.in_(checkin_ids))
        ).all()
    return loaded


def context_for(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    """Return the subject and template context for one outbox message."""
    builders = {
        "welcome": _welcome,
        "card_used": _card_used,
        "login": _login,
        "notice": _notice,
        "alert": _alert,
        "staff_invite": _staff_invite,
        "erased": _erased,
        "email_change": _email_change,
        "retention_warning": _retention_warning,
        "digest": _digest,
    }
    return builders[message.kind](session, message, relative, now)


def _welcome(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    assert relative is not None
    enrolment = session.get(Enrolment, message.payload["enrolment_id"])
    assert enrolment is not None
    guide = current_library().guide(enrolment.guide_id)
    language = relative.language
    discreet = is_discreet(guide, relative)
    return {
        "subject": _("Välkommen till din guide"),
        "guide_title": None if discreet else guide.title.get(language),
        "modules": [] if discreet else [_module_item(r, language) for r in enrolment.releases],
        "login_url": _login_url(session, relative, now, requested=False),
        # A sensitive guide's crisis text names what happened; the footer's 112 stays.
        "crisis": guide.crisis.get(language) if guide.crisis and not discreet else None,
    }


def is_discreet(guide: Any, relative: Relative) -> bool:
    """Return whether mail of this guide must not say what it is about (SPEC §9, as 1177).

    Anyone who sees the inbox of a relative in a sensitive guide would learn what
    happened from a title; such mail says only that there is something new to read,
    unless the relative chose titles in Mina inställningar.
    """
    return bool(guide.sensitive) and not relative.titles_in_email


def _card_used(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    """Tell the address's owner that a card was used with it; the link attaches the guide.

    Whoever used the card cannot see this account, so the mail names nothing of it;
    for a sensitive guide it does not name the guide either.
    """
    assert relative is not None
    enrolment = session.get(Enrolment, message.payload["enrolment_id"])
    pending = session.get(Relative, message.payload["pending_relative_id"])
    assert enrolment is not None
    guide = current_library().guide(enrolment.guide_id)
    attach = pending if pending is not None and pending.deleted_at is None else None
    return {
        "subject": _("Ett kort har använts med din e-postadress"),
        "guide_title": None if guide.sensitive else guide.title.get(relative.language),
        "login_url": _login_url(session, relative, now, requested=False, attach=attach),
        "days": current_app.config.get("GUIDE_MAIL_LINK_DAYS", 7),
    }


def _login(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    assert relative is not None
    minutes = current_app.config["GUIDE_LOGIN_LINK_MINUTES"]
    return {
        "subject": _("Din inloggningslänk"),
        "login_url": _login_url(session, relative, now, requested=True),
        "minutes": minutes,
    }


def _module_item(release: Release, language: str) -> dict[str, str]:
    # Localised texts: the mail marks a title or text that fell back to Swedish.
    text = version_text(release.version, language)
    return {"title": text["title"], "summary": text["summary"], "body": text["body"]}


def _notice(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    assert relative is not None
    enrolment = session.get(Enrolment, message.enrolment_id)
    assert enrolment is not None
    library = current_library()
    guide = library.guide(enrolment.guide_id)
    language = relative.language
    # In the order the planner released them; usually already loaded by `prefetch`.
    releases = [session.get_one(Release, id) for id in message.payload.get("releases", [])]
    checkins = [session.get_one(CheckinInstance, id) for id in message.payload.get("checkins", [])]
    full_text = relative.full_text_email and not guide.sensitive
    values = (
        local_values(session, enrolment.organisation_id, enrolment.unit_id) if full_text else {}
    )
    modules = []
    for release in releases:
        item = _module_item(release, language)
        if full_text:
            item["html"] = render_markdown(item["body"], values, library.local_facts)
            item["plain"] = render_plain(item["body"], values, library.local_facts)
        modules.append(item)
    new_phase = message.payload.get("new_phase")
    checkin_titles = [
        guide.checkin(c.checkin_id).title.get(language) for c in checkins if _has_checkin(guide, c)
    ]
    if is_discreet(guide, relative):
        return {
            "subject": _("Nytt i din guide"),
            "discreet": True,
            "new_modules": len(modules),
            "new_checkins": len(checkin_titles),
            "login_url": _login_url(session, relative, now, requested=False),
        }
    return {
        "subject": _("Nytt avsnitt i din guide") if releases else _("Några frågor till dig"),
        "discreet": False,
        "guide_title": guide.title.get(language),
        # A sensitive guide's phases say too much about the relative's life to mail them.
        "new_phase": (
            guide.phase(new_phase).title.get(language)
            if new_phase and not guide.sensitive and guide.has_phase(new_phase)
            else None
        ),
        "modules": modules,
        "checkins": checkin_titles,
        "full_text": full_text,
        "login_url": _login_url(session, relative, now, requested=False),
    }


def _has_checkin(guide: Any, instance: CheckinInstance) -> bool:
    return any(c.id == instance.checkin_id for c in guide.checkins)


def _alert(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    # Sent to staff: no personal details, only a link to the queue.
    return {
        "subject": _("Brådskande: en anhörig behöver kontakt"),
        "queue_url": url_for(
            "followup.alert", alert_id=message.payload["alert_id"], _external=True
        ),
    }


def _staff_invite(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    # The link is made when the mail is rendered, never stored: it stops once used.
    account = session.get_one(StaffUser, message.payload["staff_id"])
    return {
        "subject": _("Ditt konto i Lots"),
        "organisation": message.payload.get("organisation", ""),
        "role": account.role,
        "password_url": password_link(account),
        "days": LINK_DAYS,
    }


def _erased(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    """Confirm an erasure: no link into an account that no longer exists, no guide named."""
    return {
        "subject": _("Ditt konto hos Lots är raderat"),
        "by_retention": message.payload.get("reason") == "retention",
    }


def _retention_warning(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    """Warn that an unused account will be erased; logging in with the link keeps it."""
    assert relative is not None
    return {
        "subject": _("Vill du ha kvar din guide?"),
        "keep_url": _login_url(session, relative, now, requested=False),
        "erase_on": message.payload.get("erase_on", ""),
    }


def _email_change(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    """Ask the new address to confirm it; the link is made now, so no copy of it is stored."""
    assert relative is not None
    token = email_change_token(relative, message.payload["old"], message.payload["new"])
    return {
        "subject": _("Bekräfta din nya e-postadress"),
        "confirm_url": url_for("settings.confirm_email", token=token, _external=True),
        "hours": EMAIL_CHANGE_HOURS,
    }


def _digest(
    session: DbSession, message: OutboxMessage, relative: Relative | None, now: datetime
) -> dict[str, Any]:
    # Sent to staff each working morning: counts and a link, no personal details.
    return {
        "subject": _("Ärenden att följa upp i dag"),
        "due": int(message.payload.get("due", 0)),
        "overdue": int(message.payload.get("overdue", 0)),
        "queue_url": url_for("followup.queue", _external=True),
    }
