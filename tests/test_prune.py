"""`guide scheduler prune`: old events and old sent e-mail go, everything else stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from guide.extensions import db
from guide.models import Event, OutboxMessage
from guide.models.base import utcnow
from guide.services import prune as pruning
from tests.factories import enrol, issue_cards, make_tenant


def aged_rows() -> None:
    """An enrolment's events at several ages, and sent, failed and pending mail."""
    now = utcnow()
    tenant = make_tenant()
    enrolment = enrol(issue_cards(tenant.unit, 1, now=now)[0], now=now)
    for days in (400, 200, 10):
        db.session.add(Event(enrolment_id=enrolment.id, kind="old", at=now - timedelta(days=days)))
    for number, (status, days) in enumerate(
        [("sent", 120), ("sent", 100), ("sent", 5), ("failed", 120), ("pending", 120)]
    ):
        db.session.add(
            OutboxMessage(
                idempotency_key=f"prune-test:{number}",
                kind="notice",
                relative_id=enrolment.relative_id,
                recipient="anhorig@example.se",
                status=status,
                sent_at=now - timedelta(days=days) if status == "sent" else None,
                next_attempt_at=now - timedelta(days=days),
                created_at=now - timedelta(days=days),
            )
        )
    db.session.commit()


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Event)) or 0,
        db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
    )


def test_prune_deletes_events_and_sent_mail_older_than_asked(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    aged_rows()
    events, messages = counts()
    monkeypatch.setattr(pruning, "CHUNK", 1)  # several chunks, each its own transaction
    result = runner.invoke(
        args=["scheduler", "prune", "--events-older-than", "365", "--sent-older-than", "90"]
    )
    assert result.exit_code == 0, result.output
    assert "deleted 1 event(s) and 2 sent message(s)" in result.output
    assert counts() == (events - 1, messages - 2)
    kept = set(db.session.scalars(select(OutboxMessage.idempotency_key)))
    assert {"prune-test:2", "prune-test:3", "prune-test:4"} <= kept  # new, failed, pending
    assert not {"prune-test:0", "prune-test:1"} & kept

    again = runner.invoke(args=["scheduler", "prune", "--events-older-than", "100"])
    assert "deleted 1 event(s) and 0 sent message(s)" in again.output


def test_prune_needs_to_be_told_what_and_keeps_sent_mail_a_month(
    app: Flask, runner: FlaskCliRunner
) -> None:
    aged_rows()
    before = counts()
    assert runner.invoke(args=["scheduler", "prune"]).exit_code == 2
    too_soon = runner.invoke(args=["scheduler", "prune", "--sent-older-than", "7"])
    assert too_soon.exit_code == 2 and "30" in too_soon.output
    with pytest.raises(ValueError, match="at least 30 days"):
        pruning.prune(db.session, utcnow(), sent_older_than=timedelta(days=7))
    assert counts() == before
