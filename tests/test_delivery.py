"""E-mail delivery into a real SMTP server on loopback: content, headers, retries, failures, unsubscribe."""

from __future__ import annotations

import smtplib
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guide.extensions import db
from guide.mail.delivery import MAX_ATTEMPTS, deliver_due, retry_delay
from guide.mail.outbox import CLAIM_TIMEOUT, claim_due
from guide.mail.smtp import PermanentFailure, TemporaryFailure, classify_failure
from guide.models import CapturedMail, Enrolment, OutboxMessage, Relative, StaffRole
from guide.services.accounts import create_staff
from guide.services.library import current_library
from scheduler.jobs import deliver_outbox, release_due
from tests.conftest import at
from tests.factories import PASSWORD, enrol, issue_cards, make_tenant
from tests.smtp_sink import SmtpSink, free_port, running_sink, smtp_environment

ACTIVATED = at("2026-05-04 13:20")  # a Monday
CHECKIN_DUE = at("2026-05-07 09:00")  # hur-gar-det, 3 days after activation
AVLOSNING_DUE = at("2026-05-11 09:00")  # avlosning, 7 days after activation (bor-ihop: yes)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_sink() as running:
        yield running


@pytest.fixture
def smtp_app(make_app: Callable[..., Flask], sink: SmtpSink) -> Flask:
    return make_app(**smtp_environment(sink.port))


def enrolled(count: int = 1, full_text: bool = False) -> list[Enrolment]:
    """Enrol `count` relatives who live with the person, so avlosning comes on day 7."""
    tenant = make_tenant()
    enrolments = []
    for number, card in enumerate(issue_cards(tenant.unit, count, now=ACTIVATED)):
        enrolment = enrol(
            card, f"anhorig{number}@example.se", now=ACTIVATED, profile={"bor-ihop": True}
        )
        enrolment.relative.full_text_email = full_text
        enrolments.append(enrolment)
    db.session.commit()
    return enrolments


def welcome_sent(sink: SmtpSink) -> None:
    """Send the welcome mails queued at enrolment and forget them at the sink."""
    deliver_outbox(db.session, ACTIVATED)
    sink.reset()


def release_at(moment):  # type: ignore[no-untyped-def]
    return release_due(db.session, current_library(), moment)


# -- what a notice looks like -------------------------------------------------------


def test_notice_is_multipart_with_a_discreet_subject_and_one_click_unsubscribe(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    enrolled()
    welcome_sent(sink)
    release_at(AVLOSNING_DUE)
    report = deliver_outbox(db.session, AVLOSNING_DUE)

    assert report.sent == 1
    (received,) = sink.received
    assert received.rcpt_tos == ("anhorig0@example.se",)
    message = received.parsed()
    assert message["Subject"] == "Nytt avsnitt i din guide"
    # Plain text and HTML as alternatives of one another (RFC 2046), plain first.
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert message["From"] == "Lots <no-reply@lots.test>" and message["Date"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, html):
        assert "Avlösning" in body
        assert "Du kan få hjälp så att du får tid för dig själv." in body  # the summary
        assert "http://lots.test/logga-in/" in body
    assert "<h2" in html and "<h2" not in text
    assert "Du har rätt att få stöd" not in text  # the full text only when chosen
    unsubscribe = message["List-Unsubscribe"].strip()  # folded onto its own line: it is long
    assert unsubscribe.startswith("<http://lots.test/avregistrera/") and unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(message.get_all("Message-ID")) == 1


def test_discreet_subject_names_neither_the_guide_nor_the_module(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    enrolled()
    welcome_sent(sink)
    release_at(CHECKIN_DUE)  # only the check-in opens on day 3
    deliver_outbox(db.session, CHECKIN_DUE)
    subject = sink.received[0].parsed()["Subject"]
    assert subject == "Några frågor till dig"
    for telling in ("Stöd", "anhörig", "Hur går det", "Avlösning"):
        assert telling.lower() not in subject.lower()


def test_full_text_goes_out_when_the_relative_chose_it_and_the_guide_is_not_sensitive(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    assert not current_library().guide("stod").sensitive
    enrolled(full_text=True)
    welcome_sent(sink)
    release_at(AVLOSNING_DUE)
    deliver_outbox(db.session, AVLOSNING_DUE)
    message = sink.received[0].parsed()
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Du har rätt att få stöd. Fråga om avlösning." in text
    assert "<p>Du har rätt att få stöd. Fråga om avlösning.</p>" in html


def test_message_id_is_the_same_at_every_attempt(smtp_app: Flask, sink: SmtpSink) -> None:
    (enrolment,) = enrolled()
    welcome = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "welcome"))
    sink.refuse_data = lambda _data: "451 4.3.0 Try again later"
    deliver_due(db.session, ACTIVATED)
    sink.refuse_data = None
    deliver_due(db.session, ACTIVATED + retry_delay(1))
    assert sink.received[0].message_id == f"<welcome.{enrolment.id}@lots.test>"
    assert welcome is not None and welcome.status == "sent" and welcome.attempts == 2


# -- one connection, retries, permanent failures ------------------------------------


def test_a_batch_goes_over_one_smtp_connection(smtp_app: Flask, sink: SmtpSink) -> None:
    enrolled(count=5)
    delivery = deliver_due(db.session, ACTIVATED, limit=200)
    assert (delivery.claimed, delivery.sent) == (5, 5)
    assert sink.connections == 1
    assert len(sink.received) == 5
    assert sorted(r.rcpt_tos[0] for r in sink.received) == [
        f"anhorig{n}@example.se" for n in range(5)
    ]


def test_a_temporary_refusal_retries_with_growing_back_off(smtp_app: Flask, sink: SmtpSink) -> None:
    enrolled()
    sink.refuse_data = lambda _data: "451 4.3.0 Mailbox busy, try again later"
    moment = ACTIVATED
    waits = []
    for _attempt in range(4):
        delivery = deliver_due(db.session, moment)
        assert (delivery.claimed, delivery.retrying) == (1, 1)
        message = db.session.scalar(select(OutboxMessage))
        assert message is not None and message.status == "pending"
        assert "451" in (message.last_error or "")
        waits.append(message.next_attempt_at - moment)
        # Not a moment before the back-off has passed.
        assert deliver_due(db.session, message.next_attempt_at - timedelta(seconds=1)).claimed == 0
        moment = message.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]

    sink.refuse_data = None
    assert deliver_due(db.session, moment).sent == 1
    assert len(sink.received) == 1
    relative = db.session.scalar(select(Relative))
    assert relative is not None and relative.email_paused_at is None


def test_batches_sent_while_the_next_renders_send_each_mail_once_and_record_every_failure(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    """deliver_outbox renders batch n+1 while batch n is on its way (a thread, then a process)."""
    enrolled(count=11)
    refusals = {"anhorig2@example.se": "550 5.1.1 No such user"}
    refusals |= {f"anhorig{n}@example.se": "451 4.3.0 Try again later" for n in (4, 8)}
    sink.refuse_rcpt = refusals.get
    report = deliver_outbox(db.session, ACTIVATED, batch_size=3)

    assert (report.batches, report.sent, report.retrying, report.failed) == (4, 8, 2, 1)
    assert sink.connections == 4
    assert sorted(sink.message_ids().values()) == [1] * 8
    by_address = {m.recipient: m for m in db.session.scalars(select(OutboxMessage))}
    assert by_address["anhorig2@example.se"].status == "failed"
    assert {by_address[f"anhorig{n}@example.se"].status for n in (4, 8)} == {"pending"}
    assert all(
        m.status == "sent" and m.attempts == 1
        for address, m in by_address.items()
        if address not in refusals
    )
    paused = db.session.scalar(select(Relative).where(Relative.email == "anhorig2@example.se"))
    assert paused is not None and paused.email_paused_at == ACTIVATED


def test_a_connection_lost_in_one_batch_leaves_its_rest_and_the_next_batches_go(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    enrolled(count=6)
    sink.refuse_rcpt = {"anhorig1@example.se": "421 4.3.2 Service shutting down"}.get
    report = deliver_outbox(db.session, ACTIVATED, batch_size=3)

    # The first batch: one sent, the second refused with 421, the third never tried.
    assert (report.sent, report.retrying) == (4, 2)
    assert sorted(sink.message_ids().values()) == [1] * 4
    waiting = [m for m in db.session.scalars(select(OutboxMessage)) if m.status == "pending"]
    assert all(m.next_attempt_at == ACTIVATED + timedelta(minutes=1) for m in waiting)


def test_a_sending_process_that_dies_repeats_at_most_one_group_and_loses_nothing(
    smtp_app: Flask, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first batch goes from a thread, the second from the sending process, which dies.

    It had sent and marked one group and sent five more; those five and the rest of
    its batch wait for the next pass, and the third batch goes from the thread again.
    """
    from guide.mail import delivery
    from guide.mail.sending import SENT_GROUP
    from tests.sending_crash import TAKEN_UNMARKED, send_a_group_and_five_more_then_die

    batch = SENT_GROUP + 10
    enrolled(count=3 * batch)
    monkeypatch.setattr(delivery, "send_batch_in_process", send_a_group_and_five_more_then_die)
    report = deliver_outbox(db.session, ACTIVATED, batch_size=batch)

    assert (report.batches, report.sent, report.retrying) == (3, 2 * batch + SENT_GROUP, 10)
    assert sink.connections == 4  # the thread's two batches, the process's group and its five
    statuses = Counter(db.session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent": 2 * batch + SENT_GROUP, "pending": 10}

    later = ACTIVATED + timedelta(minutes=2)
    assert deliver_outbox(db.session, later).sent == 10
    arrived = sink.message_ids()
    assert len(arrived) == 3 * batch  # every mail arrived …
    repeated = {key: n for key, n in arrived.items() if n > 1}
    assert len(repeated) == TAKEN_UNMARKED and set(repeated.values()) == {2}  # … 5 twice
    assert set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}


def test_where_no_process_can_start_every_batch_goes_from_the_thread(
    smtp_app: Flask, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guide.mail import delivery

    def no_processes(*_args: object, **_kwargs: object) -> None:
        raise OSError(38, "Function not implemented")  # no sem_open: no /dev/shm

    monkeypatch.setattr(delivery, "ProcessPoolExecutor", no_processes)
    enrolled(count=7)
    report = deliver_outbox(db.session, ACTIVATED, batch_size=3)
    assert (report.batches, report.sent) == (3, 7)
    assert sorted(sink.message_ids().values()) == [1] * 7


def test_a_sent_erasure_confirmation_forgets_its_address_and_the_mail_beside_it_keeps_its(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    from guide.services.privacy import erase_relative

    erased, kept = enrolled(count=2)
    address = erased.relative.email
    erasure = erase_relative(db.session, erased.relative, ACTIVATED)
    db.session.commit()
    assert erasure.confirmation is not None
    deliver_due(db.session, ACTIVATED)  # the confirmation and the other's welcome, one group

    assert address in [r.rcpt_tos[0] for r in sink.received]
    rows = {m.id: m for m in db.session.scalars(select(OutboxMessage))}
    assert (rows[erasure.confirmation.id].status, rows[erasure.confirmation.id].recipient) == (
        "sent",
        "",
    )
    welcome = next(m for m in rows.values() if m.relative_id == kept.relative_id)
    assert (welcome.status, welcome.recipient) == ("sent", kept.relative.email)


def test_the_columns_a_sending_process_marks_are_the_outbox_model_s() -> None:
    from guide.mail.sending import OUTBOX

    model = OutboxMessage.__table__
    for light in OUTBOX.c:
        real = model.c[light.name]
        real_type = getattr(real.type, "impl_instance", real.type)  # UTCDateTime: a DateTime
        assert isinstance(real_type, type(light.type)), light.name
        assert getattr(real_type, "timezone", None) == getattr(light.type, "timezone", None)


def test_a_sending_process_loads_neither_flask_nor_the_models() -> None:
    import subprocess
    import sys

    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, guide.mail.sending; "
            "print(sorted(m for m in ('flask', 'flask_sqlalchemy', 'guide.models') "
            "if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "[]"


def test_back_off_doubles_up_to_six_hours() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 9, 10, 30)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=256),
        timedelta(hours=6),
        timedelta(hours=6),
    ]


def test_a_permanent_refusal_stops_the_message_and_pauses_the_relatives_mail(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    (enrolment,) = enrolled()
    sink.refuse_rcpt = lambda address: f"550 5.1.1 <{address}>: Recipient address rejected"
    delivery = deliver_due(db.session, ACTIVATED)

    assert (delivery.claimed, delivery.sent, delivery.failed) == (1, 0, 1)
    message = db.session.scalar(select(OutboxMessage))
    assert message is not None and message.status == "failed"
    relative = enrolment.relative
    assert relative.email_paused_at == ACTIVATED
    assert "550" in (relative.email_pause_reason or "")
    # Nothing more is tried, and no new notices are queued for the address.
    assert deliver_due(db.session, ACTIVATED + timedelta(days=1)).claimed == 0
    release_at(AVLOSNING_DUE)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert enrolment.releases[0].module_id == "avlosning"  # the guide itself goes on
    assert sink.received == []


def test_running_out_of_attempts_stops_the_message_without_pausing_the_relative(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    enrolled()
    sink.refuse_data = lambda _data: "451 4.3.0 Try again later"
    moment = ACTIVATED
    for _attempt in range(MAX_ATTEMPTS):
        deliver_due(db.session, moment)
        moment += timedelta(days=1)
    message = db.session.scalar(select(OutboxMessage))
    assert message is not None and message.status == "failed"
    assert message.attempts == MAX_ATTEMPTS
    relative = db.session.scalar(select(Relative))
    assert relative is not None and relative.email_paused_at is None


def test_connection_refused_keeps_every_message_for_later(make_app: Callable[..., Flask]) -> None:
    make_app(**smtp_environment(free_port()))  # nobody listens there
    enrolled(count=3)
    delivery = deliver_due(db.session, ACTIVATED)
    assert (delivery.claimed, delivery.retrying) == (3, 3)
    for message in db.session.scalars(select(OutboxMessage)):
        assert message.status == "pending"
        assert message.next_attempt_at == ACTIVATED + timedelta(minutes=1)
        assert "Connection" in (message.last_error or "")


def test_a_server_that_never_answers_is_given_up_on_and_tried_later(
    make_app: Callable[..., Flask],
) -> None:
    with socket.socket() as silent:  # takes the connection, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        make_app(**smtp_environment(silent.getsockname()[1]), GUIDE_SMTP_TIMEOUT="0.5")
        enrolled(count=2)
        delivery = deliver_due(db.session, ACTIVATED)
    assert (delivery.claimed, delivery.retrying) == (2, 2)
    for message in db.session.scalars(select(OutboxMessage)):
        assert message.status == "pending"
        assert "timed out" in (message.last_error or "")


def test_a_server_that_hangs_up_mid_batch_leaves_the_rest_for_the_next_pass(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    enrolled(count=3)
    # 421 tells the client the server is closing the connection.
    sink.refuse_data = lambda _data: "421 4.3.2 Service shutting down"
    delivery = deliver_due(db.session, ACTIVATED)
    assert (delivery.claimed, delivery.sent, delivery.retrying) == (3, 0, 3)
    assert sink.refused == 1  # the other two were never tried over the dead connection

    sink.refuse_data = None
    assert deliver_due(db.session, ACTIVATED + timedelta(minutes=1)).sent == 3
    assert sorted(sink.message_ids().values()) == [1, 1, 1]


def test_a_claim_left_by_a_process_that_died_is_taken_over_after_the_timeout(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    enrolled(count=2)
    claimed = claim_due(db.session, ACTIVATED, limit=10, worker="died-before-sending")
    assert len(claimed) == 2
    db.session.close()  # the process is gone; its claim stays in the table

    assert deliver_due(db.session, ACTIVATED + CLAIM_TIMEOUT - timedelta(seconds=1)).claimed == 0
    delivery = deliver_due(db.session, ACTIVATED + CLAIM_TIMEOUT + timedelta(seconds=1))
    assert delivery.sent == 2
    assert sorted(sink.message_ids().values()) == [1, 1]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (smtplib.SMTPRecipientsRefused({"a@b.se": (550, b"no such user")}), PermanentFailure),
        (smtplib.SMTPRecipientsRefused({"a@b.se": (451, b"later")}), TemporaryFailure),
        (smtplib.SMTPDataError(554, b"rejected"), PermanentFailure),
        (smtplib.SMTPDataError(451, b"later"), TemporaryFailure),
        (smtplib.SMTPSenderRefused(421, b"closing", "x@y.se"), TemporaryFailure),
        (smtplib.SMTPServerDisconnected("gone"), TemporaryFailure),
        (ConnectionRefusedError(111, "Connection refused"), TemporaryFailure),
        (TimeoutError("timed out"), TemporaryFailure),
    ],
)
def test_failures_are_told_apart(error: Exception, kind: type[Exception]) -> None:
    assert isinstance(classify_failure(error), kind)


# -- what admins see ----------------------------------------------------------------


def log_in(client: FlaskClient, email: str) -> None:
    response = client.post("/personal/logga-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302


def test_admins_see_failed_and_retrying_mail_of_their_organisation_without_contents(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    client = smtp_app.test_client()
    enrolments = enrolled(count=2)
    other = make_tenant("grannkommunen")
    enrol(issue_cards(other.unit, 1, now=ACTIVATED)[0], "granne@example.se", now=ACTIVATED)
    refusals = {
        "anhorig0@example.se": "550 5.1.1 <anhorig0@example.se>: Recipient address rejected",
        "anhorig1@example.se": "451 4.7.1 Greylisted, try again later",
        "granne@example.se": "550 5.1.1 No such user",
    }
    sink.refuse_rcpt = refusals.get
    deliver_due(db.session, ACTIVATED)

    admin = db.session.scalar(select(Relative).where(Relative.id == enrolments[0].relative_id))
    assert admin is not None and admin.email_paused_at is not None
    log_in(client, "admin@kommunen.se")
    page = client.get("/admin/e-post/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Stoppat" in html and "Provas igen" in html
    assert "550 5.1.1" in html and "451 4.7.1" in html
    assert "a•••@example.se" in html
    assert "anhorig0@example.se" not in html and "anhorig1@example.se" not in html
    assert "E-posten är pausad sedan" in html
    assert "granne" not in html and "No such user" not in html  # another organisation's
    assert "Välkommen till" not in html  # never a message's contents


def test_failed_mail_to_the_organisations_staff_shows_on_its_admin_page_only(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    from guide.mail.outbox import queue_staff_message

    make_tenant()
    make_tenant("grannkommunen")
    queue_staff_message(
        db.session, "alert", "personal@kommunen.se", "alert:1:personal", {"alert_id": 1}, ACTIVATED
    )
    db.session.commit()
    sink.refuse_rcpt = lambda _address: "550 5.1.1 No such user"
    assert deliver_due(db.session, ACTIVATED).failed == 1

    own, other = smtp_app.test_client(), smtp_app.test_client()
    log_in(own, "admin@kommunen.se")
    log_in(other, "admin@grannkommunen.se")
    html = own.get("/admin/e-post/").get_data(as_text=True)
    assert "Larm till personal" in html and "p•••@kommunen.se" in html
    assert "Larm till personal" not in other.get("/admin/e-post/").get_data(as_text=True)

    # The system admin, of no organisation, sees every organisation's.
    create_staff(db.session, "system@lots.se", StaffRole.ADMIN, None, None, PASSWORD)
    db.session.commit()
    system = smtp_app.test_client()
    log_in(system, "system@lots.se")
    assert "p•••@kommunen.se" in system.get("/admin/e-post/").get_data(as_text=True)


def test_staff_without_the_admin_role_may_not_see_the_mail_page(
    app: Flask, client: FlaskClient
) -> None:
    make_tenant()
    log_in(client, "personal@kommunen.se")
    assert client.get("/admin/e-post/").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/admin/e-post/").status_code == 302


def test_the_mail_page_says_so_when_everything_got_through(app: Flask, client: FlaskClient) -> None:
    make_tenant()
    log_in(client, "admin@kommunen.se")
    html = client.get("/admin/e-post/").get_data(as_text=True)
    assert "Alla brev har kommit fram" in html


# -- unsubscribing ------------------------------------------------------------------


def unsubscribe_path(sink: SmtpSink) -> str:
    link = str(sink.received[0].parsed()["List-Unsubscribe"]).strip().strip("<>")
    return link.removeprefix("http://lots.test")


def test_one_click_unsubscribe_from_the_mail_header_works_without_session_or_form_token(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    enrolled()
    deliver_outbox(db.session, ACTIVATED)
    path = unsubscribe_path(sink)

    # A mail client: no cookies, no session, no form token.
    mail_client = FlaskClient(smtp_app, smtp_app.response_class, use_cookies=False)
    assert mail_client.post("/logga-ut").status_code == 400  # the token check is on
    response = mail_client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204

    relative = db.session.scalar(select(Relative))
    assert relative is not None and relative.email_paused_at is not None
    # From now on the journey goes on without e-mail.
    sink.reset()
    release_at(AVLOSNING_DUE)
    deliver_outbox(db.session, AVLOSNING_DUE)
    assert sink.received == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # the welcome


def test_the_unsubscribe_link_opened_in_a_browser_asks_first(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    enrolled()
    deliver_outbox(db.session, ACTIVATED)
    path = unsubscribe_path(sink)
    browser = smtp_app.test_client()
    page = browser.get(path)
    assert page.status_code == 200
    assert "Ja, sluta skicka brev" in page.get_data(as_text=True)
    relative = db.session.scalar(select(Relative))
    assert relative is not None and relative.email_paused_at is None  # a GET changes nothing
    done = browser.post(path)
    assert done.status_code == 200
    assert "Klart" in done.get_data(as_text=True)
    assert browser.get("/avregistrera/forfalskad-token").status_code == 404


# -- captured mail ------------------------------------------------------------------


def test_without_a_mail_server_mail_is_captured_and_readable_in_the_demo_inbox(
    client: FlaskClient, make_app: Callable[..., Flask]
) -> None:
    enrolled()
    report = deliver_outbox(db.session, ACTIVATED)
    assert report.sent == 1
    captured = db.session.scalar(select(CapturedMail))
    assert captured is not None
    assert captured.recipient == "anhorig0@example.se"
    assert captured.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    assert client.get("/inkorg/").status_code == 404  # never outside the demo
    client = make_app(GUIDE_DEMO="1").test_client()  # `guide serve --demo`, or GUIDE_DEMO=1
    listing = client.get("/inkorg/").get_data(as_text=True)
    assert "anhorig0@example.se" in listing and captured.subject in listing
    shown = client.get(f"/inkorg/{captured.id}").get_data(as_text=True)
    assert "Välkommen" in shown


# -- a message that cannot be rendered: a fault in Lots, not a transient -------------


@pytest.fixture
def one_notice_unrenderable(
    smtp_app: Flask, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> tuple[Enrolment, Enrolment]:
    """Two relatives with a check-in notice due; rendering the first one's fails (a bug)."""
    from guide.mail import content as mail_content

    broken, fine = enrolled(count=2)
    welcome_sent(sink)
    release_at(CHECKIN_DUE)
    render_notice = mail_content._notice

    def buggy(session, message, relative, now):  # type: ignore[no-untyped-def]
        if message.enrolment_id == broken.id:
            raise RuntimeError("template bug: 'NoneType' object is not subscriptable")
        return render_notice(session, message, relative, now)

    monkeypatch.setattr(mail_content, "_notice", buggy)
    return broken, fine


def notice_of(enrolment: Enrolment) -> OutboxMessage:
    return db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.enrolment_id == enrolment.id, OutboxMessage.kind == "notice"
        )
    ).one()


def test_a_message_that_cannot_be_rendered_is_set_aside_without_blocking_the_batch(
    one_notice_unrenderable: tuple[Enrolment, Enrolment],
    sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from guide.version import code_release

    broken, fine = one_notice_unrenderable
    report = deliver_outbox(db.session, CHECKIN_DUE)

    assert (report.sent, report.unrenderable, report.retrying, report.failed) == (1, 1, 0, 0)
    assert [r.rcpt_tos for r in sink.received] == [(fine.relative.email,)]
    message = notice_of(broken)
    assert message.status == "unrenderable"
    assert message.failed_release == code_release()
    assert message.last_error is None  # the traceback goes to the server log only
    (logged,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert logged.exc_info is not None and "template bug" in str(logged.exc_info[1])


def test_a_message_that_cannot_be_rendered_is_not_retried_by_the_same_release(
    one_notice_unrenderable: tuple[Enrolment, Enrolment],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, _ = one_notice_unrenderable
    deliver_outbox(db.session, CHECKIN_DUE)
    for hours in (1, 6, 24, 24 * 30):
        report = deliver_outbox(db.session, CHECKIN_DUE + timedelta(hours=hours))
        assert (report.claimed, report.requeued) == (0, 0)
    assert notice_of(broken).status == "unrenderable"
    assert len([r for r in caplog.records if r.levelname == "ERROR"]) == 1  # logged once


def test_a_new_release_of_the_code_sends_what_the_old_one_could_not_render(
    one_notice_unrenderable: tuple[Enrolment, Enrolment],
    sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from guide.mail import content as mail_content
    from guide.mail import delivery as mailer

    broken, _ = one_notice_unrenderable
    deliver_outbox(db.session, CHECKIN_DUE)
    sink.reset()
    monkeypatch.undo()  # the bug is fixed in the new release …
    monkeypatch.setattr(mailer, "code_release", lambda: "0.2.0+fixed")  # … which now runs
    assert mail_content._notice.__name__ == "_notice"

    report = deliver_outbox(db.session, CHECKIN_DUE + timedelta(hours=1))
    assert (report.requeued, report.sent, report.unrenderable) == (1, 1, 0)
    assert [r.rcpt_tos for r in sink.received] == [(broken.relative.email,)]
    assert notice_of(broken).status == "sent"


def test_admins_read_a_plain_sentence_and_can_try_an_unrenderable_message_again(
    one_notice_unrenderable: tuple[Enrolment, Enrolment], smtp_app: Flask
) -> None:
    broken, _ = one_notice_unrenderable
    deliver_outbox(db.session, CHECKIN_DUE)
    message = notice_of(broken)
    admin = smtp_app.test_client()
    log_in(admin, "admin@kommunen.se")
    html = admin.get("/admin/e-post/").get_data(as_text=True)
    assert "1 brev kunde inte skapas på grund av ett fel i Lots" in html
    assert "Väntar på en rättning" in html
    for python in ("RuntimeError", "template bug", "Traceback", "NoneType"):
        assert python not in html

    make_tenant("grannkommunen")
    stranger = smtp_app.test_client()
    log_in(stranger, "admin@grannkommunen.se")
    assert stranger.post(f"/admin/e-post/{message.id}/forsok-igen").status_code == 404

    retried = admin.post(f"/admin/e-post/{message.id}/forsok-igen", follow_redirects=True)
    assert "provas igen vid nästa utskick" in retried.get_data(as_text=True)
    db.session.expire_all()
    assert notice_of(broken).status == "pending"


def test_scheduler_tick_counts_what_could_not_be_rendered_and_says_so(
    one_notice_unrenderable: tuple[Enrolment, Enrolment], smtp_app: Flask
) -> None:
    result = smtp_app.test_cli_runner().invoke(
        args=["scheduler", "tick", "--now", CHECKIN_DUE.isoformat()]
    )
    assert result.exit_code == 1
    assert "sent 1 e-mail(s); 0 to retry; 0 failed; 1 could not be rendered" in result.output
    assert "/admin/e-post/" in result.output


# -- the journey moved on since the last e-mail ---------------------------------------


def test_the_next_notice_after_a_check_in_changed_the_phase_says_so(
    smtp_app: Flask, sink: SmtpSink
) -> None:
    from guide.models import CheckinInstance
    from guide.services.checkins import answer_checkin

    (enrolment,) = enrolled()
    welcome_sent(sink)
    release_at(CHECKIN_DUE)
    deliver_outbox(db.session, CHECKIN_DUE)
    invitation = sink.received[-1].text()
    assert "Hur går det?" in invitation and "nytt skede" not in invitation

    instance = db.session.scalar(select(CheckinInstance))
    answered = CHECKIN_DUE + timedelta(hours=2)
    answer_checkin(db.session, current_library(), instance, {"kontakt": "yes"}, answered)
    db.session.commit()
    assert enrolment.current_phase == "sedan"

    next_checkin = at("2026-06-06 09:00")  # hur-gar-det again, 30 days after the first
    release_at(next_checkin)
    deliver_outbox(db.session, next_checkin)
    notice = sink.received[-1]
    assert "Din guide har gått vidare till ett nytt skede: Sedan." in notice.text()
    assert "nytt skede: Sedan" in notice.html()


# -- a batch's cost: tokens together, marks in groups ----------------------------------


def test_a_mail_that_does_not_render_leaves_no_login_token_behind(
    one_notice_unrenderable: tuple[Enrolment, Enrolment],
) -> None:
    from guide.models import LoginToken

    before = db.session.scalar(select(func.count()).select_from(LoginToken))
    deliver_outbox(db.session, CHECKIN_DUE)
    after = db.session.scalar(select(func.count()).select_from(LoginToken))
    assert (before or 0) + 1 == after  # the one notice that rendered carries one link


def test_a_crash_after_sending_repeats_at_most_one_group_and_loses_nothing(
    smtp_app: Flask, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guide.mail.sending import SENT_GROUP

    total = SENT_GROUP + 5
    enrolled(count=total)
    sendmail = smtplib.SMTP.sendmail
    calls = {"n": 0}

    def dies_after_the_last_send(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = sendmail(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == total:
            raise KeyboardInterrupt  # the process ends here: nothing after this line runs
        return result

    monkeypatch.setattr(smtplib.SMTP, "sendmail", dies_after_the_last_send)
    with pytest.raises(KeyboardInterrupt):
        deliver_due(db.session, ACTIVATED)
    db.session.rollback()
    statuses = Counter(db.session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent": SENT_GROUP, "sending": 5}  # the last group was never marked

    monkeypatch.setattr(smtplib.SMTP, "sendmail", sendmail)
    later = ACTIVATED + CLAIM_TIMEOUT + timedelta(minutes=1)
    assert deliver_outbox(db.session, later).sent == 5
    arrived = sink.message_ids()
    assert len(arrived) == total  # every mail arrived …
    repeated = {key: n for key, n in arrived.items() if n > 1}
    assert len(repeated) == 5 and set(repeated.values()) == {2}  # … and 5 twice, same id
    assert set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}
