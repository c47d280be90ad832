"""Benchmark (b): e-mails per second into aiosmtpd, through deliver_due and through raw smtplib.

    python -m tests.bench.mail_rate --count 2000

First the outbox route as the scheduler runs it: notices for `count` relatives are
rendered from their templates (text and HTML, a login link each) and sent in batches
of 200, one SMTP connection per batch (the first from a thread, the rest from a
sending process), what the server took marked sent 20 at a time. Then the same messages, as the server received them, are sent again with plain
smtplib over one connection: the cost of SMTP and the sink alone. The SMTP server
runs in a process of its own so that it does not share this process's CPU.
"""

from __future__ import annotations

import multiprocessing
import smtplib
from typing import Any

from tests.bench.common import (
    StatementCounter,
    arguments,
    bench_app,
    drop_schema,
    enrol_synthetic,
    fresh_schema,
    timed,
)
from tests.smtp_sink import HOST, free_port


def serve_sink(port: int, ready: Any, stop: Any, results: Any) -> None:
    """Run an SMTP sink until told to stop, then hand back what it received."""
    from aiosmtpd.controller import Controller

    from tests.smtp_sink import SmtpSink

    sink = SmtpSink()
    controller = Controller(sink, hostname=HOST, port=port, ready_timeout=10)
    controller.start()
    sink.reset()
    ready.set()
    stop.wait()
    controller.stop()
    results.put(
        (
            sink.connections,
            [(r.mail_from, list(r.rcpt_tos), r.data) for r in sink.received],
        )
    )


class SinkProcess:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.ready, self.stop, self.results = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(
            target=serve_sink, args=(self.port, self.ready, self.stop, self.results)
        )

    def __enter__(self) -> SinkProcess:
        self.process.start()
        if not self.ready.wait(30):
            raise RuntimeError("The SMTP sink did not start.")
        return self

    def finish(self) -> tuple[int, list[tuple[str, list[str], bytes]]]:
        self.stop.set()
        connections, received = self.results.get(timeout=120)
        self.process.join(30)
        return connections, received

    def __exit__(self, *_exc: object) -> None:
        if self.process.is_alive():
            self.process.terminate()


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2_000, help="messages to send")
    parser.add_argument("--batch", type=int, default=200, help="messages per SMTP connection")
    parser.add_argument(
        "--origins",
        action="store_true",
        help="also say which line of guide/ or scheduler/ sends each kind of statement",
    )
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    options = parser.parse_args()
    count = options.count

    url = fresh_schema(options.database, options.schema)
    moments = enrol_synthetic(bench_app(url), count, 0)

    from guide.extensions import db
    from guide.services.library import current_library
    from scheduler.jobs import deliver_outbox, release_due

    with SinkProcess() as sink:
        app = bench_app(
            url,
            MAIL_SERVER=HOST,
            MAIL_PORT=str(sink.port),
            MAIL_DEFAULT_SENDER="Lots <no-reply@lots.example>",
        )
        with app.app_context():
            with timed(f"release pass queueing {count:,} notices", count, "enrolments/s"):
                release_due(db.session, current_library(), moments.now, limit=count)
            db.session.commit()
            with (
                StatementCounter(db.engine, origins=options.origins) as counter,
                timed(
                    f"deliver_outbox: render and send {count:,} notices", count, "mails/s"
                ) as outbox,
            ):
                report = deliver_outbox(
                    db.session, moments.now, limit=count, batch_size=options.batch
                )
        connections, received = sink.finish()
    print(
        f"  sent {report.sent:,} in {report.batches} batches over {connections} SMTP "
        f"connections; the server received {len(received):,}; {report.retrying} to retry"
    )
    for line in counter.report(report.sent, "mail"):
        print(f"  {line}")
    print(
        "  (this process's statements; from the second batch on, the sending process marks "
        "what the server took: a SET and an UPDATE per 20 mails, 0.1 per mail more)"
    )
    if report.sent != count or len(received) != count:
        raise SystemExit(f"Expected {count:,} mails sent and received.")

    label = f"raw smtplib: the same {len(received):,} messages, one connection"
    with SinkProcess() as sink:
        with timed(label, count, "mails/s") as raw, smtplib.SMTP(HOST, sink.port) as connection:
            for mail_from, rcpt_tos, data in received:
                connection.sendmail(mail_from, rcpt_tos, data)
        connections, again = sink.finish()
    print(f"  the server received {len(again):,} over {connections} connection(s)")
    print(
        f"  outbox route: {outbox['seconds'] / count * 1000:.2f} ms per mail; raw smtplib: "
        f"{raw['seconds'] / count * 1000:.2f} ms per mail; average size {average(received):,} bytes"
    )
    print(
        f"mail delivery through the outbox vs raw smtplib, same {count:,} messages: "
        f"{outbox['rate']:,.0f} vs {raw['rate']:,.0f} mails/s = "
        f"{outbox['rate'] / raw['rate'] * 100:.1f} %"
    )
    if not options.keep:
        drop_schema(options.database, options.schema)


def average(received: list[tuple[str, list[str], bytes]]) -> int:
    return sum(len(data) for _, _, data in received) // max(len(received), 1)


if __name__ == "__main__":
    main()
