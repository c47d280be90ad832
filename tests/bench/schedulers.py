"""Benchmark (d): the release pass in one scheduler process and in two, over the same population.

    python -m tests.bench.schedulers --due 10000

Twice it rebuilds its schema with the same 10,000 due enrolments: first one process
runs release_due until nothing is due, then two processes do so at once on the same
database, as two `guide scheduler run` would (FOR UPDATE SKIP LOCKED shares the work
between them). Each process builds its app, loads the content and connects before
the clock starts, so the time is the pass alone, from the start signal until the
last process has finished. It checks that every due enrolment was advanced exactly
once, and prints the rate of each and the ratio of two processes to one.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import sqlalchemy as sa

from tests.bench.common import arguments, bench_app, drop_schema, enrol_synthetic, fresh_schema


def scheduler_process(url: str, now_iso: str, ready: Any, start: Any, results: Any) -> None:
    """Run release passes as one `guide scheduler run` would, until nothing is due."""
    from datetime import datetime

    from guide.content.library import current_library
    from guide.extensions import db
    from scheduler.jobs import release_due, worker_name

    now = datetime.fromisoformat(now_iso)
    app = bench_app(url)
    with app.app_context():
        library = current_library()
        db.session.execute(sa.text("SELECT 1"))  # connect before the clock starts
        db.session.rollback()
        ready.set()
        start.wait()
        started = time.perf_counter()
        advanced = failed = 0
        while True:
            report = release_due(db.session, library, now, worker=worker_name())
            advanced += report.enrolments
            failed += len(report.failed)
            if report.enrolments + len(report.failed) == 0:
                break
        results.put((advanced, failed, time.perf_counter() - started))
        db.engine.dispose()


def run_schedulers(url: str, now_iso: str, processes: int) -> tuple[float, list[int], int]:
    """Start `processes` schedulers, let them go at once; return wall time, counts, failures."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    readies = [context.Event() for _ in range(processes)]
    workers = [
        context.Process(target=scheduler_process, args=(url, now_iso, ready, start, results))
        for ready in readies
    ]
    for worker in workers:
        worker.start()
    try:
        for ready in readies:
            if not ready.wait(120):
                raise RuntimeError("A scheduler process did not start.")
        started = time.perf_counter()
        start.set()
        outcomes = [results.get(timeout=1800) for _ in workers]
        wall = time.perf_counter() - started
        for worker in workers:
            worker.join(30)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
    return wall, [advanced for advanced, _, _ in outcomes], sum(f for _, f, _ in outcomes)


def check_once(url: str, due: int) -> None:
    """Stop unless each due enrolment got exactly one release, one notice and a new due time."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        counts = connection.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM release WHERE module_id = 'vem-gor-vad'),"
                " (SELECT count(DISTINCT enrolment_id) FROM release WHERE module_id = 'vem-gor-vad'),"
                " (SELECT count(*) FROM outbox_message WHERE kind = 'notice'),"
                " (SELECT count(*) FROM event WHERE kind = 'released')"
            )
        ).one()
    engine.dispose()
    print(
        f"  written: {counts[0]:,} releases to {counts[1]:,} enrolments, "
        f"{counts[2]:,} notices, {counts[3]:,} events"
    )
    if tuple(counts) != (due, due, due, due):
        raise SystemExit(f"Expected {due:,} of each: something was lost or written twice.")


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=10_000, help="enrolments due now")
    parser.add_argument("--processes", type=int, default=2, help="schedulers in the second run")
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    options = parser.parse_args()

    rates = {}
    for processes in (1, options.processes):
        url = fresh_schema(options.database, options.schema)
        moments = enrol_synthetic(bench_app(url), options.due, 0)
        wall, advanced, failed = run_schedulers(url, moments.now.isoformat(), processes)
        rates[processes] = sum(advanced) / wall
        shares = " + ".join(f"{n:,}" for n in advanced)
        print(
            f"{processes} scheduler process(es): {sum(advanced):,} enrolments ({shares}) "
            f"in {wall:.2f} s, {rates[processes]:,.0f} enrolments/s, {failed} failed",
            flush=True,
        )
        check_once(url, options.due)
    if not options.keep:
        drop_schema(options.database, options.schema)
    print(
        f"{options.processes} processes vs 1 on one database: "
        f"{rates[options.processes] / rates[1]:.2f}x the rate"
    )


if __name__ == "__main__":
    main()
