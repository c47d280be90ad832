"""The release pass on the database, the scheduler's jobs and `guide scheduler tick`."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guide.extensions import db
from guide.models import (
    CapturedMail,
    CheckinInstance,
    Enrolment,
    Event,
    OutboxMessage,
    Release,
)
from guide.services.journey import release_module
from guide.services.library import current_library
from scheduler import runner
from scheduler.jobs import RETRY_AFTER_FAILURE, claim_due_enrolments, release_due
from tests.conftest import FIXTURE_CONTENT, POSTGRES_URL, at
from tests.factories import enrol, issue_cards, make_tenant

ACTIVATED = at("2026-05-04 13:20")  # a Monday
CHECKIN_DUE = at("2026-05-07 09:00")  # hur-gar-det: 3 days after activation
AVLOSNING_DUE = at("2026-05-11 09:00")  # avlosning: 7 days after activation (bor-ihop: yes)
SEDAN_STARTS = at("2026-05-18 09:00")  # the phase start lasts 14 days; sedan opens with its module


def enrolments(count: int, now: datetime = ACTIVATED, first: int = 0) -> list[Enrolment]:
    tenant = make_tenant(f"kommun{first}")
    return [
        enrol(card, f"anhorig{first + n}@example.se", now=now, profile={"bor-ihop": True})
        for n, card in enumerate(issue_cards(tenant.unit, count, now=now))
    ]


def release_at(now: datetime, **options: int):  # type: ignore[no-untyped-def]
    return release_due(db.session, current_library(), now, **options)


def notices() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "notice").order_by(OutboxMessage.id)
        )
    )


def released(enrolment: Enrolment) -> list[str]:
    return sorted(
        db.session.scalars(select(Release.module_id).where(Release.enrolment_id == enrolment.id))
    )


# -- the release pass ---------------------------------------------------------------


def test_a_release_pass_claims_only_enrolments_that_are_due(app: Flask) -> None:
    (due,) = enrolments(1)
    (later,) = enrolments(1, now=ACTIVATED + timedelta(days=2), first=1)
    (paused,) = enrolments(1, first=2)
    paused.status = "paused"
    db.session.commit()
    assert later.next_due_at == at("2026-05-09 09:00")

    report = release_at(CHECKIN_DUE)

    assert (report.enrolments, report.releases, report.checkins, report.notices) == (1, 0, 1, 1)
    assert report.failed == []
    assert [n.enrolment_id for n in notices()] == [due.id]
    assert due.next_due_at == AVLOSNING_DUE
    assert later.next_due_at == at("2026-05-09 09:00")
    assert paused.next_due_at == CHECKIN_DUE  # waits until the relative resumes


def test_a_second_pass_at_the_same_moment_changes_nothing(app: Flask) -> None:
    (enrolment,) = enrolments(1)
    first = release_at(AVLOSNING_DUE)
    second = release_at(AVLOSNING_DUE)
    assert (first.enrolments, first.releases, first.notices) == (1, 1, 1)
    assert (second.enrolments, second.releases, second.notices) == (0, 0, 0)
    assert released(enrolment) == ["avlosning", "valkommen"]
    assert len(notices()) == 1


def test_a_module_is_never_released_twice(app: Flask) -> None:
    (enrolment,) = enrolments(1)
    release_at(AVLOSNING_DUE)
    # Even a due moment put back in the past finds nothing left to release or announce.
    enrolment.next_due_at = ACTIVATED
    db.session.commit()
    again = release_at(AVLOSNING_DUE + timedelta(hours=1))
    assert (again.enrolments, again.releases, again.notices) == (1, 0, 0)
    module = current_library().guide("stod").module("avlosning")
    assert release_module(db.session, enrolment, module, AVLOSNING_DUE) is None
    # And the database itself refuses a second row for the same module.
    first = db.session.scalar(select(Release).where(Release.module_id == "avlosning"))
    assert first is not None
    db.session.add(
        Release(
            enrolment_id=enrolment.id,
            module_id="avlosning",
            module_version_id=first.module_version_id,
            due_at=AVLOSNING_DUE,
            released_at=AVLOSNING_DUE,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert released(enrolment) == ["avlosning", "valkommen"]


def test_the_outbox_refuses_a_second_notice_for_the_same_releases(app: Flask) -> None:
    from guide.mail.outbox import queue_message

    (enrolment,) = enrolments(1)
    release_at(AVLOSNING_DUE)
    (notice,) = notices()
    again = queue_message(
        db.session, "notice", enrolment.relative, notice.idempotency_key, enrolment=enrolment
    )
    assert again is not None and again.id == notice.id
    duplicate = OutboxMessage(
        idempotency_key=notice.idempotency_key,
        kind="notice",
        relative_id=enrolment.relative_id,
        recipient="anhorig0@example.se",
        payload={},
        next_attempt_at=AVLOSNING_DUE,
    )
    db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_catching_up_after_downtime_sends_one_notice_with_only_the_newest_checkin(
    app: Flask,
) -> None:
    (enrolment,) = enrolments(1)
    back = at("2026-06-13 10:15")  # nothing ran for almost six weeks

    report = release_at(back)

    assert (report.enrolments, report.releases, report.checkins, report.notices) == (1, 2, 1, 1)
    assert released(enrolment) == ["avlosning", "sedan", "valkommen"]
    assert enrolment.current_phase == "sedan"
    assert enrolment.phase_visits[-1].started_at == SEDAN_STARTS
    (checkin,) = db.session.scalars(select(CheckinInstance))
    assert checkin.due_at == at("2026-06-06 09:00")  # the occurrence of 3 May + 30 days
    (notice,) = notices()
    assert len(notice.payload["releases"]) == 2 and len(notice.payload["checkins"]) == 1
    # One e-mail a day: the same day brings nothing more, and the next check-in waits.
    assert release_at(back + timedelta(hours=5)).enrolments == 0
    assert enrolment.next_due_at == at("2026-07-06 09:00")


def test_every_release_is_an_event(app: Flask) -> None:
    (enrolment,) = enrolments(1)
    release_at(at("2026-06-13 10:15"))
    kinds = sorted(
        (event.kind, event.data.get("module") or event.data.get("phase") or event.data["checkin"])
        for event in db.session.scalars(select(Event).where(Event.enrolment_id == enrolment.id))
        if event.kind != "enrolled"
    )
    assert kinds == [
        ("checkin_opened", "hur-gar-det"),
        ("phase_changed", "sedan"),
        ("released", "avlosning"),
        ("released", "sedan"),
        ("released", "valkommen"),
    ]


def test_a_failing_enrolment_is_logged_and_tried_again_later_without_blocking_others(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    broken, fine = enrolments(2)
    broken.guide_id = "borttagen"  # its guide was removed from the content
    db.session.commit()

    with caplog.at_level(logging.ERROR, logger="scheduler.jobs"):
        report = release_at(AVLOSNING_DUE)

    assert report.failed == [broken.id]
    assert report.enrolments == 1
    assert released(fine) == ["avlosning", "valkommen"]
    assert broken.next_due_at == AVLOSNING_DUE + RETRY_AFTER_FAILURE
    assert released(broken) == ["valkommen"]
    assert f"could not advance enrolment {broken.id}" in caplog.text


def test_a_pass_works_in_batches_up_to_its_limit(app: Flask) -> None:
    enrolled = enrolments(5)
    first = release_at(CHECKIN_DUE, limit=3, batch_size=2)
    assert first.enrolments == 3
    rest = release_at(CHECKIN_DUE, batch_size=2)
    assert rest.enrolments == 2
    assert sorted(n.enrolment_id for n in notices()) == sorted(e.id for e in enrolled)


@pytest.mark.skipif(not POSTGRES_URL, reason="row locks are PostgreSQL's; SQLite runs one process")
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_passes_at_once_never_claim_the_same_enrolment(app: Flask) -> None:
    enrolled = enrolments(4)
    mine = claim_due_enrolments(db.session, CHECKIN_DUE, 2)  # locked until this transaction ends
    with Session(db.engine) as other_process:
        theirs = claim_due_enrolments(other_process, CHECKIN_DUE, 10)
        assert sorted(e.id for e in mine + theirs) == sorted(e.id for e in enrolled)
        assert not {e.id for e in mine} & {e.id for e in theirs}
        other_process.rollback()
    db.session.rollback()


# -- guide scheduler tick -----------------------------------------------------------


def test_scheduler_tick_releases_and_delivers_at_the_given_local_time(
    app: Flask, runner: FlaskCliRunner
) -> None:
    enrolments(1)
    result = runner.invoke(args=["scheduler", "tick", "--now", "2026-05-07T09:00"])
    assert result.exit_code == 0, result.output
    assert (
        "2026-05-07T07:00:00+00:00: released 0 module(s) and opened 1 check-in(s) for "
        "1 enrolment(s); 1 notice(s) queued; 0 failed"
    ) in result.output
    assert "sent 2 e-mail(s); 0 to retry; 0 failed" in result.output  # welcome and notice
    assert db.session.scalar(select(func.count()).select_from(CapturedMail)) == 2

    again = runner.invoke(args=["scheduler", "tick", "--now", "2026-05-11T07:00:00+00:00"])
    assert "released 1 module(s)" in again.output and "sent 1 e-mail(s)" in again.output


def test_scheduler_tick_explains_a_malformed_time(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["scheduler", "tick", "--now", "på fredag"])
    assert result.exit_code == 2
    assert "is not an ISO 8601 time" in result.output


def test_scheduler_tick_fails_when_an_enrolment_could_not_be_advanced(
    app: Flask, runner: FlaskCliRunner
) -> None:
    (enrolment,) = enrolments(1)
    enrolment.guide_id = "borttagen"
    db.session.commit()
    result = runner.invoke(args=["scheduler", "tick", "--now", "2026-05-07T09:00"])
    assert result.exit_code == 1
    assert "A fault in Lots (see the log)" in result.output
    assert f"enrolments that could not be advanced: {enrolment.id}" in result.output


def command_line_environment(tmp_path: Path) -> dict[str, str]:
    return {
        "GUIDE_DATABASE_URL": f"sqlite:///{tmp_path / 'guide.sqlite3'}",
        "GUIDE_CONTENT_DIR": str(FIXTURE_CONTENT),
        "GUIDE_SECRET_KEY": "test-secret",
        "GUIDE_RUN_SCHEDULER": "0",
    }


def test_guide_scheduler_tick_works_from_the_real_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from guide.__main__ import main

    runner = CliRunner(env=command_line_environment(tmp_path))
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(main, ["scheduler", "tick", "--now", "2026-05-07T09:00"])
    assert result.exit_code == 0, result.output
    assert "2026-05-07T07:00:00+00:00: released 0 module(s)" in result.output
    assert "sent 0 e-mail(s)" in result.output


def test_guide_scheduler_run_stops_cleanly_when_terminated(tmp_path: Path) -> None:
    environment = {**os.environ, **command_line_environment(tmp_path)}
    guide = str(Path(sys.executable).with_name("guide"))
    subprocess.run([guide, "db", "upgrade"], env=environment, check=True, capture_output=True)
    with subprocess.Popen(
        [guide, "scheduler", "run"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert "every 30 s" in process.stdout.readline()  # it is up and scheduling
        process.send_signal(signal.SIGTERM)
        try:
            _, errors = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0
    assert "Traceback" not in errors


# -- the APScheduler jobs -----------------------------------------------------------


def test_the_jobs_follow_apschedulers_advice(app: Flask) -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    runner.add_jobs(scheduler, app)
    runner.add_jobs(scheduler, app)  # a restart replaces the jobs instead of doubling them
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {runner.RELEASE_JOB_ID, runner.DELIVERY_JOB_ID, runner.RETENTION_JOB_ID}
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == runner.MISFIRE_GRACE_SECONDS
    for job_id in (runner.RELEASE_JOB_ID, runner.DELIVERY_JOB_ID):
        assert jobs[job_id].trigger.interval == timedelta(seconds=runner.INTERVAL_SECONDS)
    retention = jobs[runner.RETENTION_JOB_ID]
    assert retention.trigger.interval == timedelta(seconds=runner.RETENTION_INTERVAL_SECONDS)
    assert jobs[runner.RELEASE_JOB_ID].func_ref == "scheduler.runner:release_job"
    assert jobs[runner.DELIVERY_JOB_ID].func_ref == "scheduler.runner:delivery_job"


def test_the_jobs_run_a_pass_at_the_current_time_in_their_own_app_context(app: Flask) -> None:
    long_ago = datetime(2020, 1, 6, 12, 0, tzinfo=UTC)
    (enrolment,) = enrolments(1, now=long_ago)

    runner.release_job(app)
    runner.delivery_job(app)

    db.session.expire_all()
    assert released(enrolment) == ["avlosning", "sedan", "valkommen"]
    assert enrolment.next_due_at is not None and enrolment.next_due_at > long_ago
    sent = db.session.scalars(select(OutboxMessage.status)).all()
    assert sorted(sent) == ["sent", "sent"]


def test_serve_runs_the_scheduler_unless_it_is_turned_off(
    app: Flask, make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    import guide.cli.serve as serve
    from guide.cli.serve import start_scheduler

    started: list[Flask] = []
    monkeypatch.setattr(serve, "start_in_background", started.append)

    assert app.config["GUIDE_RUN_SCHEDULER"] is False  # the tests' app never starts it
    (line,) = start_scheduler(app)
    assert "GUIDE_RUN_SCHEDULER=0" in line and started == []
    assert "lots_scheduler" not in app.extensions

    on = make_app(GUIDE_RUN_SCHEDULER="1", GUIDE_SCHEDULER_INTERVAL="7")
    (line,) = start_scheduler(on)
    assert started == [on]
    assert "every 7 s" in line
