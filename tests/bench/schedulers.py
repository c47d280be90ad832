"""Benchmark (d): the release pass in one scheduler process and in two, over the same population.

    python -m tests.bench.schedulers --due 10000

Twice it rebuilds its schema with the same 10,000 due enrolments: first one process
runs release_due until nothing is due, then two processes do so at once on the same
database, as two `guide scheduler run` would (FOR UPDATE SKIP LOCKED shares the work
between them). Each process builds its app, loads the content and connects before
the clock starts, so the time is the pass alone, from the start signal until the
last process has finished. It checks that every due enrolment was advanced exactly
once, and prints the rate of each and the ratio of two processes to one.

Beside each run it prints the CPU each scheduler process used, the CPU of the
PostgreSQL backend that served it (read from /proc when the server runs on this
machine) and how busy the machine's cores were meanwhile: two processes can only
beat one where there are idle cores for the second, which a shared 2-core machine
that also runs PostgreSQL may not have.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.bench.common import arguments, bench_app, drop_schema, enrol_synthetic, fresh_schema


def scheduler_process(url: str, now_iso: str, ready: Any, start: Any, results: Any) -> None:
    """Run release passes as one `guide scheduler run` would, until nothing is due."""
    from datetime import datetime

    from guide.extensions import db
    from guide.services.library import current_library
    from scheduler.jobs import release_due, worker_name

    now = datetime.fromisoformat(now_iso)
    app = bench_app(url)
    with app.app_context():
        library = current_library()
        # Connect before the clock starts, and find the server process that serves us.
        backend = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        db.session.rollback()
        ready.set()
        start.wait()
        started, cpu, backend_cpu = time.perf_counter(), time.process_time(), _cpu_of(backend)
        advanced = failed = 0
        while True:
            report = release_due(db.session, library, now, worker=worker_name())
            advanced += report.enrolments
            failed += len(report.failed)
            if report.enrolments + len(report.failed) == 0:
                break
        results.put(
            (
                advanced,
                failed,
                time.perf_counter() - started,
                time.process_time() - cpu,
                _cpu_of(backend) - backend_cpu,
            )
        )
        db.engine.dispose()


def _cpu_of(pid: int) -> float:
    """Return the CPU seconds a process on this machine has used (NaN if it cannot be read).

    The database server's process for a connection, when PostgreSQL runs here.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu() -> tuple[float, float]:
    """Return the machine's busy and total CPU seconds so far, over all cores (/proc/stat)."""
    try:
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return float("nan"), float("nan")
    idle = ticks[3] + ticks[4]  # idle and iowait
    rate = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / rate, sum(ticks) / rate


def run_schedulers(
    url: str, now_iso: str, processes: int
) -> tuple[float, list[tuple[int, int, float, float, float]], float]:
    """Start `processes` schedulers and let them go at once.

    Return the wall time, what each process reports (advanced, failed, its seconds, its
    CPU seconds, and the CPU seconds of the database server process that served it),
    and the share of the machine's CPU that was busy meanwhile (all its processes).
    """
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
        started, (busy, total) = time.perf_counter(), _machine_cpu()
        start.set()
        outcomes = [results.get(timeout=1800) for _ in workers]
        wall = time.perf_counter() - started
        busy_after, total_after = _machine_cpu()
        for worker in workers:
            worker.join(30)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
    return wall, outcomes, (busy_after - busy) / (total_after - total)


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
        wall, outcomes, busy = run_schedulers(url, moments.now.isoformat(), processes)
        advanced = sum(outcome[0] for outcome in outcomes)
        failed = sum(outcome[1] for outcome in outcomes)
        rates[processes] = advanced / wall
        shares = " + ".join(f"{outcome[0]:,}" for outcome in outcomes)
        print(
            f"{processes} scheduler process(es): {advanced:,} enrolments ({shares}) "
            f"in {wall:.2f} s, {rates[processes]:,.0f} enrolments/s, {failed} failed",
            flush=True,
        )
        for number, (_, _, seconds, cpu, server) in enumerate(outcomes, 1):
            print(
                f"  process {number}: {seconds:.2f} s; CPU: its own {cpu:.2f} s, "
                f"its PostgreSQL backend's {server:.2f} s"
            )
        print(
            f"  the machine's {os.cpu_count()} cores were {busy:.0%} busy meanwhile "
            "(every process on it, this benchmark's and any other's)"
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
