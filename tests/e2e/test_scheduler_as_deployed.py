"""The scheduler as deployed: inside `guide serve`, as `guide scheduler run`, and four ticks racing.

The notice must arrive without anybody running a tick command, and several scheduler
processes on one PostgreSQL database must deliver every notice exactly once, also
when the mail server turns three transactions in ten away with 451.
"""

from __future__ import annotations

import random
import signal
import subprocess
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import FIXTURE_CONTENT, POSTGRES_URL
from tests.e2e.deployment import GUIDE, Deployment, local, login_link
from tests.e2e.test_relative_journey import CONSENTS, EMAIL, issue_card, set_up_organisation
from tests.synthetic import create_enrolments

# Everything of an enrolment that says when something happened, moved back together.
BACKDATED = {
    "enrolment": ["activated_at"],
    "phase_visit": ["started_at"],
    '"release"': ["released_at", "due_at"],
}


def enrol_and_let_days_pass(deployment: Deployment, token: str, days: int) -> None:
    """Redeem a card now, then move the enrolment's past back by `days`, as if they had passed.

    The scheduler inside the process works on the real clock, so instead of moving
    the clock the test moves the relative's history; what falls due is then due now.
    """
    code = issue_card(deployment, token, "stod")
    status, body = deployment.api(
        "POST",
        "/api/v1/activations",
        {"code": code, "email": EMAIL, "profile": {"bor-ihop": True}, "consents": CONSENTS},
    )
    assert status == 201, body
    deployment.wait_for_mail(1)  # the welcome, sent at once
    postgres = deployment.database_url.startswith("postgresql")
    for table, columns in BACKDATED.items():
        shifted = ", ".join(
            f"{c} = {c} - interval '{days} days'"
            if postgres
            else f"{c} = datetime({c}, '-{days} days')"
            for c in columns
        )
        deployment.query(f"UPDATE {table} SET {shifted}")
    # The day of the last e-mail too (a date): at most one e-mail a day, so it counts.
    last_email = f"last_email_on - {days}" if postgres else f"date(last_email_on, '-{days} days')"
    deployment.query(f"UPDATE enrolment SET last_email_on = {last_email}")
    deployment.query("UPDATE enrolment SET next_due_at = activated_at")


def test_guide_serve_sends_a_scheduled_notice_by_itself(deployment: Deployment) -> None:
    deployment.environment["GUIDE_CONTENT_DIR"] = str(FIXTURE_CONTENT)
    token = set_up_organisation(deployment)
    with deployment.serving(GUIDE_RUN_SCHEDULER="1", GUIDE_SCHEDULER_INTERVAL="1"):
        enrol_and_let_days_pass(deployment, token, days=4)
        notice = deployment.wait_for_mail(2, timeout=60)[-1]  # no tick command anywhere
        assert "Hur går det?" in notice.text()
        assert login_link(notice).startswith(deployment.base_url + "/logga-in/")


def test_guide_scheduler_run_sends_it_and_stops_cleanly_on_sigterm(
    deployment: Deployment,
) -> None:
    deployment.environment["GUIDE_CONTENT_DIR"] = str(FIXTURE_CONTENT)
    token = set_up_organisation(deployment)
    with deployment.serving():  # the web without a scheduler, as in production
        enrol_and_let_days_pass(deployment, token, days=4)
        scheduler = subprocess.Popen(
            [str(GUIDE), "scheduler", "run"],
            env={**deployment.environment, "GUIDE_SCHEDULER_INTERVAL": "1"},
            cwd=deployment.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            notice = deployment.wait_for_mail(2, timeout=60)[-1]
            assert "Hur går det?" in notice.text()
        finally:
            scheduler.send_signal(signal.SIGTERM)
            output, _ = scheduler.communicate(timeout=60)
        assert scheduler.returncode == 0, output
        assert "every 1 s" in output


# -- several scheduler processes on one PostgreSQL database ---------------------------

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="races need PostgreSQL")
RACERS = 4
DUE = 400
ACTIVATED = datetime(2026, 6, 5, 14, 0).astimezone()


def due_relatives(deployment: Deployment, count: int) -> list[str]:
    """`count` relatives of the fixture guide, activated on 5 June, whose next moment has come."""
    deployment.environment["GUIDE_CONTENT_DIR"] = str(FIXTURE_CONTENT)
    set_up_organisation(deployment)
    deployment.guide("content", "sync")
    (ids,) = deployment.query(
        "SELECT o.id, u.id, v.id FROM organisation o JOIN unit u ON u.organisation_id = o.id, "
        "module_version v WHERE v.guide_id = 'stod' AND v.module_id = 'valkommen'"
    )
    engine = sa.create_engine(
        deployment.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    )
    with engine.begin() as connection:
        create_enrolments(
            connection,
            prefix="racer",
            count=count,
            organisation_id=ids[0],
            unit_id=ids[1],
            guide_id="stod",
            phase="start",
            activated_at=ACTIVATED,
            next_due_at=ACTIVATED + timedelta(days=3),
            profile={"bor-ihop": "yes"},
            opening_module=("valkommen", ids[2]),
        )
    engine.dispose()
    return [f"racer-{n}@example.se" for n in range(1, count + 1)]


def race_ticks(deployment: Deployment, moment: datetime) -> list[str]:
    """Start RACERS `guide scheduler tick` processes at once; return what each printed."""
    processes = [
        subprocess.Popen(
            [str(GUIDE), "scheduler", "tick", "--now", moment.isoformat()],
            env=deployment.environment,
            cwd=deployment.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(RACERS)
    ]
    outputs = []
    for process in processes:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output
        outputs.append(output)
    return outputs


def assert_every_notice_arrived_once(deployment: Deployment, addresses: list[str]) -> None:
    arrived = deployment.sink.message_ids()
    assert {key: n for key, n in arrived.items() if n > 1} == {}
    notices = deployment.query(
        "SELECT count(*) FROM outbox_message WHERE kind = 'notice' AND status = 'sent'"
    )[0][0]
    assert notices == len(addresses) == len(arrived)
    assert sorted(r.rcpt_tos[0] for r in deployment.sink.received) == sorted(addresses)
    releases = deployment.query(
        'SELECT count(*), count(DISTINCT enrolment_id) FROM "release" '
        "WHERE module_id = 'avlosning'"
    )[0]
    assert tuple(releases) == (len(addresses), len(addresses))


@postgres_only
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_four_ticks_racing_over_400_due_relatives_deliver_every_notice_once(
    deployment: Deployment,
) -> None:
    addresses = due_relatives(deployment, DUE)
    outputs = race_ticks(deployment, local(ACTIVATED.date() + timedelta(days=10), 10))
    assert sum(1 for output in outputs if "sent 0 e-mail(s)" not in output) >= 2  # they shared
    assert_every_notice_arrived_once(deployment, addresses)


@postgres_only
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_every_notice_arrives_once_when_the_server_answers_451_to_three_in_ten(
    deployment: Deployment,
) -> None:
    addresses = due_relatives(deployment, DUE)
    chance = random.Random(451)
    deployment.sink.refuse_data = lambda _data: (
        "451 4.3.0 Try again later" if chance.random() < 0.3 else None
    )
    moment = local(ACTIVATED.date() + timedelta(days=10), 10)
    for _ in range(20):  # each round an hour later: every retry is due again
        race_ticks(deployment, moment)
        waiting = deployment.query("SELECT count(*) FROM outbox_message WHERE status <> 'sent'")
        if waiting[0][0] == 0:
            break
        moment += timedelta(hours=1)
    assert deployment.sink.refused > DUE * 0.2  # the faults really happened
    assert_every_notice_arrived_once(deployment, addresses)
