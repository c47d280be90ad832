"""Answer a check-in: store the answers, fire the rules and let them take effect at once.

The rules are decided by the pure `scheduler.rules`; this module carries their effects
out on the enrolment in the database. Every effect is an event on the enrolment, and
what an answer changed is read back from those events, so the API answer, the
confirmation page and the journey's history can never tell different stories.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import takewhile
from typing import Any, Literal

from sqlalchemy import select, update

from guide.content.model import (
    Checkin,
    Guide,
    Library,
    Mute,
    RaiseAlert,
    ReleaseModule,
    SetPhase,
    ShowCrisis,
)
from guide.errors import GuideError
from guide.models import Alert, CheckinInstance, Enrolment, Event, PhaseVisitRow, Relative
from guide.models.base import DbSession
from guide.services.answers import AnswerError, clean_answers
from guide.services.followup import CRISIS_REASON, raise_alert
from guide.services.journey import (
    advance_enrolment,
    decode_answers,
    record_event,
    release_module,
    state_of,
)
from guide.services.reading import version_text
from scheduler import rules

# Shown when a crisis rule fires in a guide that has no crisis text of its own.
FALLBACK_CRISIS_TEXT = (
    "Är du eller någon annan i fara just nu? Ring 112. Behöver du prata med någon kan du "
    "ringa Självmordslinjen på 90101 eller 1177 dygnet runt."
)
# An answer's effects are the events right after it; more than this is never written.
_MAX_EFFECT_EVENTS = 500


class CheckinError(GuideError):
    """A check-in that cannot be answered, with a sentence that says what to do."""

    @classmethod
    def not_found(cls) -> CheckinError:
        return cls("checkin_not_found", "Frågorna finns inte. Gå tillbaka till Min guide.", 404)

    @classmethod
    def answered(cls) -> CheckinError:
        return cls(
            "checkin_answered", "Du har redan svarat på de här frågorna. Tack för dina svar!", 409
        )

    @classmethod
    def expired(cls) -> CheckinError:
        return cls(
            "checkin_expired",
            "De här frågorna har ersatts av nyare frågor. Du hittar dem på Min guide.",
            409,
        )

    @classmethod
    def invalid(cls, error: AnswerError) -> CheckinError:
        return cls("answers_invalid", error.message, 400, field=error.field)


# The actions' own kinds ("release", "phase", "mute", "alert", "crisis"), and "checkin"
# for a check-in that opened as a consequence.
ChangeKind = Literal["release", "phase", "mute", "alert", "crisis", "checkin"]


@dataclass(frozen=True)
class Change:
    """One thing an answer changed, in words the relative understands."""

    kind: ChangeKind
    id: str  # the module, phase, muted target, alert id or opened check-in
    title: str  # the module's or phase's title, the alert's priority, the crisis text

    def as_json(self) -> dict[str, str]:
        return {"type": self.kind, "id": self.id, "title": self.title}


@dataclass(frozen=True)
class CheckinOutcome:
    """What answering one check-in did, in the order it happened."""

    instance: CheckinInstance
    changes: tuple[Change, ...]
    crisis_text: str | None  # set when a crisis rule fired: show it at once

    def of_kind(self, kind: ChangeKind) -> tuple[Change, ...]:
        """Return the changes of one kind, in the order they happened."""
        return tuple(change for change in self.changes if change.kind == kind)

    @property
    def released(self) -> tuple[str, ...]:
        return tuple(change.id for change in self.of_kind("release"))

    @property
    def phase(self) -> str | None:
        phases = self.of_kind("phase")
        return phases[-1].id if phases else None

    @property
    def alert_ids(self) -> tuple[int, ...]:
        return tuple(int(change.id) for change in self.of_kind("alert"))

    def as_json(self) -> dict[str, Any]:
        """Return the outcome as the API answers it."""
        instance = self.instance
        return {
            "checkin": {
                "id": instance.id,
                "checkin": instance.checkin_id,
                "answered_at": instance.answered_at.isoformat() if instance.answered_at else None,
                "answers": instance.answers or {},
            },
            "changes": [change.as_json() for change in self.changes],
            "released": list(self.released),
            "phase": self.phase,
            "alert_raised": bool(self.alert_ids),
            "crisis": self.crisis_text,
        }


def checkin_for_relative(
    session: DbSession, relative: Relative, instance_id: int, enrolment_id: int | None = None
) -> CheckinInstance:
    """Return one of the relative's own check-ins, or raise not_found (never someone else's)."""
    instance = session.get(CheckinInstance, instance_id)
    if (
        instance is None
        or instance.enrolment.relative_id != relative.id
        or (enrolment_id is not None and instance.enrolment_id != enrolment_id)
    ):
        raise CheckinError.not_found()
    return instance


def checkin_of(guide: Guide, instance: CheckinInstance) -> Checkin:
    """Return the check-in an occurrence asks; one removed from the content is gone."""
    if not any(checkin.id == instance.checkin_id for checkin in guide.checkins):
        raise CheckinError.not_found()
    return guide.checkin(instance.checkin_id)


def check_open(instance: CheckinInstance) -> None:
    """Raise why an occurrence cannot be answered any more, if it cannot."""
    if instance.answered_at is not None:
        raise CheckinError.answered()
    if instance.expired_at is not None:
        raise CheckinError.expired()


def answer_checkin(
    session: DbSession,
    library: Library,
    instance: CheckinInstance,
    raw_answers: Mapping[str, Any],
    now: datetime,
) -> CheckinOutcome:
    """Store the answers to an open check-in and carry out, in order, every rule that fires.

    A release makes the module appear now; a new phase starts now and its opening
    module follows at once; a mute stops a module or phase; an alert goes to the unit
    that issued the card; a crisis shows the crisis text and raises an urgent alert.
    Empty answers are skipped. The caller commits.
    """
    enrolment = instance.enrolment
    guide = library.guide(enrolment.guide_id)
    checkin = checkin_of(guide, instance)
    check_open(instance)
    try:
        answers = clean_answers(
            checkin.questions, raw_answers, today=state_of(enrolment).local_date(now)
        )
    except AnswerError as error:
        raise CheckinError.invalid(error) from None

    # Serialise with the scheduler's pass over the same enrolment (it skips locked
    # rows), and let exactly one of two submits of the same form win.
    session.execute(select(Enrolment.id).where(Enrolment.id == enrolment.id).with_for_update())
    claimed = session.execute(
        update(CheckinInstance)
        .where(
            CheckinInstance.id == instance.id,
            CheckinInstance.answered_at.is_(None),
            CheckinInstance.expired_at.is_(None),
        )
        .values(answered_at=now, answers=answers)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(instance)
        check_open(instance)
        raise CheckinError.answered()
    instance.answered_at = now
    instance.answers = answers

    before = state_of(enrolment)
    enrolment.answers = {**(enrolment.answers or {}), **answers}
    answered_event = record_event(
        session, enrolment, "checkin_answered", now, checkin=checkin.id, instance=instance.id
    )
    session.flush()

    fired = rules.answer_checkin(guide, before, checkin, decode_answers(answers), now)
    for effect in fired.effects:
        match effect:
            case ReleaseModule(module=module_id):
                release_module(session, enrolment, guide.module(module_id), now, reason="rule")
            case SetPhase(phase=phase_id):
                _start_phase(session, guide, enrolment, phase_id, instance, now)
            case Mute(target=target):
                enrolment.muted = [*(enrolment.muted or []), target]
                record_event(session, enrolment, "muted", now, target=target, instance=instance.id)
            case RaiseAlert(priority=priority, reason=reason):
                raise_alert(
                    session,
                    enrolment,
                    priority=priority,
                    source="rule",
                    reason=reason.get("sv", guide.fallback_language),
                    now=now,
                    checkin=checkin.id,
                    instance=instance.id,
                )
            case ShowCrisis():
                record_event(
                    session,
                    enrolment,
                    "crisis_shown",
                    now,
                    checkin=checkin.id,
                    instance=instance.id,
                )
                raise_alert(
                    session,
                    enrolment,
                    priority="urgent",
                    source="crisis",
                    reason=CRISIS_REASON,
                    now=now,
                    checkin=checkin.id,
                    instance=instance.id,
                )
    if enrolment.status == "active":
        # Whatever the answer made due now (a new phase's opening module or check-in)
        # is released at once; the relative is on the page, so no e-mail about it.
        advance_enrolment(session, guide, enrolment, now, notify=False)
    session.flush()
    return _outcome_from(session, guide, instance, answered_event)


def _start_phase(
    session: DbSession,
    guide: Guide,
    enrolment: Enrolment,
    phase_id: str,
    instance: CheckinInstance,
    now: datetime,
) -> None:
    """Start a phase now; check-ins that belong to the phase left expire quietly."""
    enrolment.phase_visits.append(PhaseVisitRow(phase=phase_id, started_at=now, reason="rule"))
    record_event(
        session,
        enrolment,
        "phase_changed",
        now,
        phase=phase_id,
        reason="rule",
        instance=instance.id,
    )
    bound_elsewhere = {
        checkin.id
        for checkin in guide.checkins
        if checkin.after == "phase_start" and checkin.phase != phase_id
    }
    still_open = session.scalars(
        select(CheckinInstance).where(
            CheckinInstance.enrolment_id == enrolment.id,
            CheckinInstance.id != instance.id,
            CheckinInstance.answered_at.is_(None),
            CheckinInstance.expired_at.is_(None),
        )
    )
    for other in still_open:
        if other.checkin_id in bound_elsewhere:
            other.expired_at = now
            record_event(session, enrolment, "checkin_expired", now, checkin=other.checkin_id)


def checkin_outcome(
    session: DbSession, library: Library, instance: CheckinInstance
) -> CheckinOutcome:
    """Return what answering `instance` changed, read back from the enrolment's events."""
    if instance.answered_at is None:
        raise CheckinError.not_found()
    candidates = session.scalars(
        select(Event)
        .where(Event.enrolment_id == instance.enrolment_id, Event.kind == "checkin_answered")
        .order_by(Event.id.desc())
    )
    answered_event = next(
        (event for event in candidates if event.data.get("instance") == instance.id), None
    )
    if answered_event is None:
        raise CheckinError.not_found()
    guide = library.guide(instance.enrolment.guide_id)
    return _outcome_from(session, guide, instance, answered_event)


def _outcome_from(
    session: DbSession, guide: Guide, instance: CheckinInstance, answered_event: Event
) -> CheckinOutcome:
    """Translate the events written at the moment of the answer into the changes it made."""
    enrolment = instance.enrolment
    at = answered_event.at
    following = session.scalars(
        select(Event)
        .where(Event.enrolment_id == enrolment.id, Event.id > answered_event.id)
        .order_by(Event.id)
        .limit(_MAX_EFFECT_EVENTS)
    ).all()
    events = [
        event
        for event in takewhile(lambda event: event.at == at, following)
        if event.kind != "checkin_answered"
    ]
    language = enrolment.relative.language
    changes: list[Change] = []
    crisis_text = None
    alerts_seen: set[int] = set()
    for event in events:
        data = event.data or {}
        match event.kind:
            case "released":
                changes.append(
                    Change(
                        ReleaseModule.kind, data["module"], _module_title(enrolment, data["module"])
                    )
                )
            case "phase_changed":
                changes.append(
                    Change(
                        SetPhase.kind, data["phase"], _phase_title(guide, data["phase"], language)
                    )
                )
            case "muted":
                changes.append(
                    Change(
                        Mute.kind, data["target"], _target_title(guide, data["target"], language)
                    )
                )
            case "checkin_opened":
                changes.append(
                    Change(
                        "checkin", data["checkin"], _checkin_title(guide, data["checkin"], language)
                    )
                )
            case "crisis_shown":
                crisis_text = crisis_text_of(guide, language)
                changes.append(Change(ShowCrisis.kind, data.get("checkin", ""), crisis_text))
            case "alert_raised" if data["alert"] not in alerts_seen:
                alerts_seen.add(data["alert"])
                alert = session.get(Alert, data["alert"])
                priority = alert.priority if alert is not None else data.get("priority", "normal")
                changes.append(Change(RaiseAlert.kind, str(data["alert"]), priority))
    return CheckinOutcome(instance, tuple(changes), crisis_text)


def crisis_text_of(guide: Guide, language: str) -> str:
    """Return the guide's crisis text in `language`, or the national one if it has none."""
    if guide.crisis is None:
        return FALLBACK_CRISIS_TEXT
    return guide.crisis.get(language, guide.fallback_language)


def _module_title(enrolment: Enrolment, module_id: str) -> str:
    release = next((r for r in enrolment.releases if r.module_id == module_id), None)
    if release is None:
        return module_id
    return str(version_text(release.version, enrolment.relative.language)["title"])


def _phase_title(guide: Guide, phase_id: str, language: str) -> str:
    if not guide.has_phase(phase_id):
        return phase_id
    return guide.phase(phase_id).title.get(language, guide.fallback_language)


def _target_title(guide: Guide, target: str, language: str) -> str:
    if guide.has_module(target):
        return guide.module(target).text(language).title
    return _phase_title(guide, target, language)


def _checkin_title(guide: Guide, checkin_id: str, language: str) -> str:
    if not any(c.id == checkin_id for c in guide.checkins):
        return checkin_id
    return guide.checkin(checkin_id).title.get(language, guide.fallback_language)
