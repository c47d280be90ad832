"""Random enrolment states over the shipped guides, for the set-based release pass's proofs.

`random_specs` draws plain descriptions (no database): guide, start phase, activation,
time zone and hour, profile and check-in answers, mutes, extra phase visits, opened
check-ins, the day of the last e-mail, paused mail, and how far behind the enrolment
is (catch-up after downtime). tests/test_release_batch.py plans them in memory and
writes them into the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from guide.content.model import Guide, Library, Question, QuestionType

TIMEZONES = ("Europe/Stockholm", "Europe/Helsinki", "UTC", "America/New_York")


@dataclass
class Spec:
    guide_id: str
    start_phase: str
    activated_at: datetime
    timezone: str
    preferred_hour: int
    profile: dict[str, Any]
    answers: dict[str, Any] = field(default_factory=dict)
    muted: list[str] = field(default_factory=list)
    later_phases: list[tuple[str, datetime]] = field(default_factory=list)
    released: list[str] = field(default_factory=list)  # modules released before (by a rule)
    opened: dict[str, datetime] = field(default_factory=dict)  # check-in -> due of open one
    last_email_on: date | None = None
    notified_phase: str | None = None
    email_paused: bool = False
    next_due_at: datetime | None = None


def answer(rng: random.Random, question: Question) -> Any:
    """A stored answer as guide/services/answers.py stores it."""
    if question.type is QuestionType.SCALE:
        return rng.randint(1, 5)
    if question.type is QuestionType.TEXT:
        return rng.choice(["", "ja", "1", "inget"])
    if question.type is QuestionType.MULTI:
        options = list(question.option_ids)
        return sorted(rng.sample(options, rng.randint(0, len(options))))
    if question.type is QuestionType.DATE:
        # Before every activation of the population (at most 120 days back): a date is
        # never in the future when it is given; anchors still fall inside the year.
        return (date(2026, 10, 26) - timedelta(days=rng.randint(121, 480))).isoformat()
    return rng.choice(question.option_ids)


def answers_to(rng: random.Random, questions: list[Question], share: float) -> dict[str, Any]:
    return {q.id: answer(rng, q) for q in questions if rng.random() < share}


def random_spec(rng: random.Random, library: Library, now: datetime) -> Spec:
    guide: Guide = rng.choice(sorted(library.guides.values(), key=lambda g: g.id))
    phases = [phase.id for phase in guide.phases]
    back = rng.choice([timedelta(hours=rng.randint(0, 30)), timedelta(days=rng.randint(0, 120))])
    activated = (now - back).replace(second=0, microsecond=0)
    spec = Spec(
        guide_id=guide.id,
        start_phase=rng.choice(phases) if rng.random() < 0.4 else phases[0],
        activated_at=activated,
        timezone=rng.choice(TIMEZONES) if rng.random() < 0.3 else TIMEZONES[0],
        preferred_hour=rng.choice([9, 9, 8, 12, 20]),
        profile=answers_to(rng, list(guide.profile), 0.7),
    )
    checkin_questions = [q for c in guide.checkins for q in c.questions]
    if rng.random() < 0.4:
        spec.answers = answers_to(rng, checkin_questions, 0.5)
    targets = [m.id for m in guide.modules] + phases
    if rng.random() < 0.25:
        spec.muted = rng.sample(targets, rng.randint(1, 3))
    if rng.random() < 0.25 and now > activated:
        moment = activated + (now - activated) * rng.random()
        spec.later_phases.append((rng.choice(phases), moment.replace(microsecond=0)))
    if rng.random() < 0.2:
        spec.released = rng.sample([m.id for m in guide.modules], rng.randint(1, 3))
    if guide.checkins and rng.random() < 0.35:
        checkin = rng.choice(guide.checkins)
        due = activated + (now - activated) * rng.random()
        spec.opened[checkin.id] = due.replace(second=0, microsecond=0)
    roll = rng.random()
    if roll < 0.2:
        spec.last_email_on = now.astimezone(_zone(spec.timezone)).date()
    elif roll < 0.35:
        spec.last_email_on = now.astimezone(_zone(spec.timezone)).date() - timedelta(days=1)
    if rng.random() < 0.2:
        spec.notified_phase = rng.choice(phases)
    spec.email_paused = rng.random() < 0.1
    # Due now, long overdue (the scheduler was down), or not yet due.
    roll = rng.random()
    if roll < 0.1:
        spec.next_due_at = now + timedelta(days=2)
    elif roll < 0.4:
        spec.next_due_at = activated + timedelta(hours=1)
    else:
        spec.next_due_at = now - timedelta(minutes=rng.randint(0, 600))
    return spec


def random_specs(seed: int, library: Library, now: datetime, count: int) -> list[Spec]:
    rng = random.Random(seed)
    return [random_spec(rng, library, now) for _ in range(count)]


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
