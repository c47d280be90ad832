"""Change the answers a relative gave when the card was redeemed (the profile of one enrolment).

The answers steer which modules come and, for a `date` question, when: a corrected
date moves whatever has not been released yet and releases nothing twice, because the
planner derives every due time from the answers and the releases so far.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from guide.content.model import Library
from guide.models import Enrolment
from guide.models.base import DbSession
from guide.services.answers import clean_answers
from guide.services.journey import advance_enrolment, record_event, state_of


def change_profile(
    session: DbSession,
    library: Library,
    enrolment: Enrolment,
    raw_answers: Mapping[str, Any],
    now: datetime,
) -> list[str]:
    """Replace the enrolment's profile answers with `raw_answers` and let the journey follow.

    Every question may be left empty, which removes its answer. A wrong answer raises
    AnswerError naming its question. What the new answers make due now is released at
    once (the relative is on the page); the rest waits for its new time. Return the
    ids of the questions whose answer changed. The caller commits.
    """
    guide = library.guide(enrolment.guide_id)
    answers = clean_answers(guide.profile, raw_answers, today=state_of(enrolment).local_date(now))
    # Serialise with the scheduler's pass over the same enrolment (it skips locked rows).
    session.execute(select(Enrolment.id).where(Enrolment.id == enrolment.id).with_for_update())
    before = dict(enrolment.profile or {})
    changed = sorted(
        key for key in set(before) | set(answers) if before.get(key) != answers.get(key)
    )
    if not changed:
        return []
    enrolment.profile = answers
    # Which questions changed, not the answers: the event log is read by staff tools.
    record_event(session, enrolment, "profile_changed", now, questions=changed)
    if enrolment.status == "active":
        advance_enrolment(session, guide, enrolment, now, notify=False)
    session.flush()
    return changed
