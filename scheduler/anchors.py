"""Resolve what a span in the content counts from: activation, or a date the relative gave.

Content may anchor a schedule on an answer to a `date` question (SPEC §4):
`release: {after: 330d, from: dodsdatum}`, a check-in's `first: 7d` with
`from: dodsdatum`, a phase's `at: {after: 0d, from: dodsdatum}`. This module is the one
place that turns such a `from:` into a moment; every schedule that takes a `from:`
(modules, check-ins, phases, and follow-up calls) resolves it here and then counts
its span with `scheduler.planner.due_time`, so "7d after the date" means the same
everywhere:

    due = due_time(anchor_moment(source, answers, activated_at, tz), after, tz, hour)

- `source` is "activation" (or None) or the id of a `date` question.
- A date counts from the start of that local calendar day, so `Nd` (N >= 1) falls on
  date + N at the preferred hour, whatever the clock, across daylight-saving changes.
  `0d` is the start of the day itself: already past when the relative enrols later
  that day or afterwards, so it means "at once".
- A skipped (or unreadable) date falls back to activation: the journey then runs as if
  the date were the day the card was redeemed.

Pure: no clock, no database, no Flask. Answers are the planner's (`state.all_answers`),
where a date is stored in its ISO form "YYYY-MM-DD".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

from guide.content.model import ACTIVATION, Answers


def answered_date(answers: Answers, question: str) -> date | None:
    """Return the answer to the date question `question` as a date, or None if skipped."""
    raw = answers.get(question)
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def anchor_moment(
    source: str | None, answers: Answers, activated_at: datetime, tz: tzinfo
) -> datetime:
    """Return the moment a span `from: source` counts from, in UTC.

    Activation for "activation" or None; for a date question, the start of the
    answered local day; activation again when that date was skipped.
    """
    activated = activated_at.astimezone(UTC)
    if source is None or source == ACTIVATION:
        return activated
    day = answered_date(answers, source)
    if day is None:
        return activated
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
