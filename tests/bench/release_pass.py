"""Benchmark (a): one release pass over 10,000 due enrolments, among 10,000 and among 1,000,000.

    python -m tests.bench.release_pass                    # 10,000 due among 10,000, then 1,000,000
    python -m tests.bench.release_pass --totals 10000     # the first population only

For each population it rebuilds a schema of its own, generates the enrolments with
INSERT ... SELECT over generate_series (one statement per table), shows the plan of
the claim query, and runs release_due once as `guide scheduler tick` would, counting
every SQL statement it sends. Then it prints the issue's rows: enrolments per second
and statements per enrolment for each population, and the time of each larger
population as a multiple of the first one's, measured in the same run.
"""

from __future__ import annotations

import argparse
import cProfile
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tests.bench.common import (
    StatementCounter,
    arguments,
    bench_app,
    drop_schema,
    enrol_synthetic,
    fresh_schema,
    timed,
)


@dataclass(frozen=True)
class PassFigures:
    total: int
    due: int
    advanced: int
    seconds: float
    statements: int
    commits: int
    claim_ms: float  # PostgreSQL's execution time of one claim query, from EXPLAIN ANALYZE

    @property
    def rate(self) -> float:
        return self.advanced / self.seconds

    @property
    def statements_each(self) -> float:
        return self.statements / max(self.advanced, 1)


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument(
        "--totals",
        type=int,
        nargs="+",
        default=[10_000, 1_000_000],
        help="enrolments in the database, one population each; the first is the reference",
    )
    parser.add_argument("--due", type=int, default=10_000, help="of those, due now")
    from scheduler.jobs import RELEASE_BATCH

    parser.add_argument(
        "--batch",
        type=int,
        default=RELEASE_BATCH,
        help=f"enrolments per claimed batch (default {RELEASE_BATCH}, as the scheduler)",
    )
    parser.add_argument(
        "--per-enrolment",
        action="store_true",
        help="run the per-enrolment reference path instead of the set-based one",
    )
    parser.add_argument(
        "--origins",
        action="store_true",
        help="also say which line of guide/ or scheduler/ sends each kind of statement",
    )
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of each pass to FILE.N")
    parser.add_argument("--keep", action="store_true", help="keep the schemas afterwards")
    options = parser.parse_args()

    figures = []
    for number, total in enumerate(options.totals):
        schema = f"{options.schema}_{total}"
        print(f"== {options.due:,} due among {total:,} enrolled (schema {schema})", flush=True)
        profile = f"{options.profile}.{number}" if options.profile else None
        figures.append(measure(options, schema, total, profile))
        if not options.keep:
            drop_schema(options.database, schema)

    reference = figures[0]
    print()
    print("| population | pass | enrolments/s | ms each | SQL statements each | commits each |")
    print("|---|---|---|---|---|---|")
    for f in figures:
        print(
            f"| {f.due:,} due among {f.total:,} | {f.seconds:.1f} s | {f.rate:,.0f} | "
            f"{f.seconds / f.advanced * 1000:.2f} | {f.statements_each:.2f} | "
            f"{f.commits / f.advanced:.3f} |"
        )
    for f in figures[1:]:
        print(
            f"among {f.total:,} vs among {reference.total:,}: {f.seconds / reference.seconds:.2f}x "
            f"the time (claim query {f.claim_ms:.2f} ms vs {reference.claim_ms:.2f} ms)"
        )


def measure(
    options: argparse.Namespace, schema: str, total: int, profile: str | None
) -> PassFigures:
    """Build the population, run one pass over it, check it and return its figures."""
    due: int = options.due
    url = fresh_schema(options.database, schema)
    app = bench_app(url)
    with timed(f"generate {total:,} enrolments ({due:,} due)", total):
        moments = enrol_synthetic(app, due, total - due)

    from guide.extensions import db
    from guide.services.library import current_library
    from scheduler.jobs import claim_due_enrolments, release_due

    with app.app_context():
        claim_ms = explain_claim(moments.now, options.batch)
        library = current_library()
        profiler = cProfile.Profile() if profile else None
        with (
            StatementCounter(db.engine, origins=options.origins) as counter,
            timed(f"release pass over {due:,} due", due, "enrolments/s") as run,
        ):
            if profiler:
                profiler.enable()
            report = release_due(
                db.session,
                library,
                moments.now,
                limit=due,
                batch_size=options.batch,
                set_based=False if options.per_enrolment else None,
            )
            if profiler:
                profiler.disable()
        if profiler and profile:
            profiler.dump_stats(profile)
            print(f"  profile written to {profile}")
        print(
            f"  advanced {report.enrolments:,}, released {report.releases:,} modules, "
            f"queued {report.notices:,} notices, {len(report.failed)} failed; "
            f"{run['seconds'] / max(report.enrolments, 1) * 1000:.2f} ms per enrolment"
        )
        for line in counter.report(report.enrolments, "enrolment"):
            print(f"  {line}")
        left = claim_due_enrolments(db.session, moments.now, 1)
        db.session.rollback()
        print(f"  still due afterwards: {len(left)}")
        check_written(due)
        with timed("a second pass, with nothing due"):
            release_due(db.session, library, moments.now)
        db.engine.dispose()
    if report.enrolments != due:
        raise SystemExit(f"The pass advanced {report.enrolments:,} of {due:,} due enrolments.")
    return PassFigures(
        total, due, report.enrolments, run["seconds"], counter.statements, counter.commits, claim_ms
    )


def check_written(due: int) -> None:
    """Stop the benchmark unless the pass wrote one release, event and notice per due relative."""
    from guide.extensions import db

    counts = db.session.execute(
        sa.text(
            "SELECT (SELECT count(*) FROM release WHERE module_id = 'vem-gor-vad'),"
            " (SELECT count(*) FROM event WHERE kind = 'released'),"
            " (SELECT count(*) FROM outbox_message WHERE kind = 'notice')"
        )
    ).one()
    db.session.rollback()
    print(f"  written: {counts[0]:,} releases, {counts[1]:,} events, {counts[2]:,} notices")
    if tuple(counts) != (due, due, due):
        raise SystemExit(f"Expected {due:,} of each.")


def explain_claim(now: datetime, batch: int) -> float:
    """Print how PostgreSQL finds a batch of due enrolments; return its execution time in ms."""
    from guide.extensions import db

    plan = list(
        db.session.execute(
            sa.text(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM enrolment"
                " WHERE status = 'active' AND next_due_at <= :now"
                " ORDER BY next_due_at, id LIMIT :batch FOR UPDATE SKIP LOCKED"
            ),
            {"now": now, "batch": batch},
        ).scalars()
    )
    db.session.rollback()
    print("  claim query plan:")
    for line in plan:
        print(f"    {line}")
    execution = [line for line in plan if line.startswith("Execution Time:")]
    return float(execution[0].split()[2]) if execution else float("nan")


if __name__ == "__main__":
    main()
