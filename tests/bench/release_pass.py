"""Benchmark (a): one release pass over 10,000 due enrolments, among 10,000 or 1,000,000 enrolled.

    python -m tests.bench.release_pass --total 10000 --due 10000
    python -m tests.bench.release_pass --total 1000000 --due 10000

It rebuilds its schema, generates the enrolments with INSERT ... SELECT over
generate_series (one statement per table), shows the plan of the claim query, and
runs release_due once as `guide scheduler tick` would, printing the figures.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from tests.bench.common import arguments, bench_app, enrol_synthetic, fresh_schema, timed


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=10_000, help="enrolments in the database")
    parser.add_argument("--due", type=int, default=10_000, help="of those, due now")
    parser.add_argument("--batch", type=int, default=100, help="enrolments per claimed batch")
    options = parser.parse_args()

    url = fresh_schema(options.database, options.schema)
    app = bench_app(url)
    with timed(f"generate {options.total:,} enrolments ({options.due:,} due)", options.total):
        moments = enrol_synthetic(app, options.due, options.total - options.due)

    from guide.extensions import db
    from guide.services.library import current_library
    from scheduler.jobs import claim_due_enrolments, release_due

    with app.app_context():
        explain_claim(moments.now)
        with timed(f"release pass over {options.due:,} due", options.due, "enrolments/s") as run:
            report = release_due(
                db.session, current_library(), moments.now, batch_size=options.batch
            )
        print(
            f"  advanced {report.enrolments:,}, released {report.releases:,} modules, "
            f"queued {report.notices:,} notices, {len(report.failed)} failed; "
            f"{run['seconds'] / max(report.enrolments, 1) * 1000:.2f} ms per enrolment"
        )
        left = claim_due_enrolments(db.session, moments.now, 1)
        db.session.rollback()
        print(f"  still due afterwards: {len(left)}")
        with timed("a second pass, with nothing due"):
            release_due(db.session, current_library(), moments.now)


def explain_claim(now: datetime) -> None:
    """Print how PostgreSQL finds the due enrolments: the (status, next_due_at) index."""
    from guide.extensions import db

    plan = db.session.execute(
        sa.text(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM enrolment"
            " WHERE status = 'active' AND next_due_at <= :now"
            " ORDER BY next_due_at, id LIMIT 100 FOR UPDATE SKIP LOCKED"
        ),
        {"now": now},
    ).scalars()
    print("  claim query plan:")
    for line in plan:
        print(f"    {line}")
    db.session.rollback()


if __name__ == "__main__":
    main()
