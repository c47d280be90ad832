"""Retention (issue 13 item 4): unused accounts warned, erased 30 days later unless kept."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guide.extensions import db
from guide.mail.delivery import deliver_due
from guide.models import CapturedMail, Card, Enrolment, OutboxMessage, Relative
from guide.services.retention import ERASE_AFTER_WARNING, run_retention
from tests.checkin_support import FIRST_CHECKIN, KONTROLL_CONTENT, log_in_staff
from tests.factories import issue_cards, make_tenant
from tests.privacy_support import CONTROL_EMAIL, EMAIL, relative_with_everything, text_hits

# The relative's last act in relative_with_everything (answering) is on FIRST_CHECKIN.
QUIET = FIRST_CHECKIN + timedelta(days=366)


@pytest.fixture
def content_dir() -> Path:
    return KONTROLL_CONTENT


def warnings() -> list[OutboxMessage]:
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "retention_warning"))
    )


def test_an_unused_account_is_warned_then_erased_and_nothing_of_it_remains(app: Flask) -> None:
    case = relative_with_everything()
    # The control relative was used recently: it is neither warned nor erased.
    control = db.session.scalar(select(Relative).where(Relative.email == CONTROL_EMAIL))
    assert control is not None
    control.last_login_at = QUIET - timedelta(days=3)
    db.session.commit()

    early = run_retention(db.session, FIRST_CHECKIN + timedelta(days=364))
    assert (early.warned, early.erased) == (0, 0)

    first = run_retention(db.session, QUIET)
    assert (first.warned, first.erased) == (1, 0)
    again = run_retention(db.session, QUIET + timedelta(hours=1))
    assert (again.warned, again.erased) == (0, 0)  # idempotent: one warning
    [warning] = warnings()
    assert warning.recipient == EMAIL
    deliver_due(db.session, QUIET)
    mail = db.session.scalar(
        select(CapturedMail).where(CapturedMail.subject == "Vill du ha kvar din guide?")
    )
    assert mail is not None and "/logga-in/" in mail.text_body

    not_yet = run_retention(db.session, QUIET + ERASE_AFTER_WARNING - timedelta(days=1))
    assert not_yet.erased == 0
    erased = run_retention(db.session, QUIET + ERASE_AFTER_WARNING)
    assert erased.erased == 2  # the account and the pending one with its address
    assert run_retention(db.session, QUIET + ERASE_AFTER_WARNING).erased == 0
    deliver_due(db.session, QUIET + ERASE_AFTER_WARNING)
    assert text_hits(case.needles) == []
    db.session.expire_all()
    assert db.session.get_one(Relative, control.id).deleted_at is None
    confirmation = db.session.scalar(
        select(CapturedMail).where(CapturedMail.subject == "Ditt konto hos Lots är raderat")
    )
    assert confirmation is not None and "inte använt din guide" in confirmation.text_body


def test_logging_in_after_the_warning_keeps_the_account(app: Flask) -> None:
    case = relative_with_everything()
    mine = OutboxMessage.relative_id == case.relative.id

    def my_warnings() -> int:
        return int(
            db.session.scalar(
                select(func.count()).where(mine, OutboxMessage.kind == "retention_warning")
            )
            or 0
        )

    run_retention(db.session, QUIET)
    assert my_warnings() == 1
    relative = db.session.get_one(Relative, case.relative.id)
    relative.last_login_at = QUIET + timedelta(days=2)  # the keep-me link is a login link
    db.session.commit()
    run_retention(db.session, QUIET + ERASE_AFTER_WARNING)
    db.session.expire_all()
    assert db.session.get_one(Relative, case.relative.id).deleted_at is None
    # A year later still, unused again: a new warning, not an erasure out of the old one.
    run_retention(db.session, QUIET + timedelta(days=2 + 366))
    db.session.expire_all()
    assert db.session.get_one(Relative, case.relative.id).deleted_at is None
    assert my_warnings() == 2


def test_retention_days_come_from_the_environment(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(GUIDE_RETENTION_DAYS="60")
    assert app.config["GUIDE_RETENTION_DAYS"] == 60
    with pytest.raises(Exception, match="GUIDE_RETENTION_DAYS"):
        make_app(GUIDE_RETENTION_DAYS="7")


def test_expired_unredeemed_cards_are_purged(app: Flask) -> None:
    tenant = make_tenant()
    expired = issue_cards(
        tenant.unit,
        3,
        "kontroll",
        expires=date(2026, 1, 31),
        now=FIRST_CHECKIN - timedelta(days=60),
    )
    fresh = issue_cards(tenant.unit, 2, "kontroll", expires=date(2027, 1, 31), now=FIRST_CHECKIN)
    expired_ids, fresh_ids = {c.id for c in expired}, {c.id for c in fresh}
    report = run_retention(db.session, FIRST_CHECKIN + timedelta(days=10))
    assert report.cards_purged == 3
    left = set(db.session.scalars(select(Card.id)))
    assert left == fresh_ids and not left & expired_ids


def test_the_admin_mail_page_shows_the_retention_counts(app: Flask, client: FlaskClient) -> None:
    case = relative_with_everything()
    run_retention(db.session, QUIET)
    log_in_staff(client, case.case.tenant.admin)
    page = client.get("/admin/e-post/").get_data(as_text=True)
    # Two accounts were unused (the control one too); each has one guide.
    assert "Varnade, ännu inte raderade: 2" in page
    run_retention(db.session, QUIET + ERASE_AFTER_WARNING)
    page = client.get("/admin/e-post/").get_data(as_text=True)
    # Their enrolments, and the one of the pending account with the same address.
    assert "Raderade för att de inte använts: 3" in page
    assert "Varnade, ännu inte raderade: 0" in page


def test_a_relative_another_process_warned_after_the_claim_is_not_warned_again(
    app: Flask,
) -> None:
    """The claim locks the relative; the warning lives on the enrolments (CI found the race).

    A process whose claim read the enrolments before another's warning committed gets
    the relative once the lock is free; it must see the warning and leave it.
    """
    from guide.services.retention import DEFAULT_RETENTION_DAYS, _warn
    from tests.factories import enrol

    enrolment = enrol(
        issue_cards(make_tenant().unit, guide="kontroll", now=FIRST_CHECKIN)[0],
        "r@example.se",
        now=FIRST_CHECKIN,
    )
    now = FIRST_CHECKIN + timedelta(days=400)
    cutoff = now - timedelta(days=DEFAULT_RETENTION_DAYS)
    relative = enrolment.relative
    assert _warn(db.session, relative, cutoff, now) == 1  # the other process
    db.session.commit()
    assert _warn(db.session, relative, cutoff, now) == 0  # this one, claimed before that
    db.session.commit()
    assert len(warnings()) == 1


def test_two_scheduler_processes_warn_and_erase_each_account_once(app: Flask, backend: str) -> None:
    """Several processes at once (threads with their own sessions): one warning, one erasure."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the row claim is PostgreSQL's")
    tenant = make_tenant()
    from tests.factories import enrol

    for n in range(12):
        enrol(
            issue_cards(tenant.unit, guide="kontroll", now=FIRST_CHECKIN)[0],
            f"r{n}@example.se",
            now=FIRST_CHECKIN,
        )
    now = FIRST_CHECKIN + timedelta(days=400)
    results: list[tuple[int, int]] = []

    def one_process(moment: object) -> None:
        with app.app_context():
            report = run_retention(db.session, moment, batch=3)  # type: ignore[arg-type]
            results.append((report.warned, report.erased))
            db.session.remove()

    for moment in (now, now + ERASE_AFTER_WARNING):
        threads = [threading.Thread(target=one_process, args=(moment,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(w for w, _ in results) == 12
    assert sum(e for _, e in results) == 12
    assert len(warnings()) == 12
    assert db.session.scalar(select(func.count()).where(Enrolment.status == "erased")) == 12
