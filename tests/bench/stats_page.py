"""Benchmark (g): the statistics page for an organisation with 100,000 enrolments.

    python -m tests.bench.stats_page                      # 100,000 enrolments over twelve months
    python -m tests.bench.stats_page --enrolments 20000   # a smaller organisation

Two units, three guides, enrolments activated over twelve months (one INSERT ...
SELECT per table, as tests/synthetic.py does), each with its opening module; 70 %
consented to statistics; every enrolment answered one check-in with `ork`, half
opened their module, a fifth ticked a need and one in twenty raised an alert that
staff contacted. Then it times `compute_statistics` for the whole organisation and
for one unit, and `GET /admin/statistik/` as an organisation admin sees it (twelve
months, every table and chart), beside a `SELECT count(*)` over the enrolments in
the same run. It checks that the page counts what was generated.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.bench.common import arguments, bench_app, drop_schema, fresh_schema, timed

GUIDES = (("demenslots", "tidig"), ("aterhamtning", "forsta-kontakt"), ("efterlevande", "akut"))


def populate(app: object, total: int) -> dict[str, int]:
    from guide.extensions import db
    from guide.services.accounts import create_organisation, create_staff, create_unit
    from guide.services.journey import published_version
    from guide.services.library import current_library
    from tests.synthetic import create_enrolments

    with app.app_context():  # type: ignore[attr-defined]
        library = current_library()
        organisation = create_organisation(db.session, "statkommun", "Statistikkommunen")
        units = [
            create_unit(db.session, organisation, "anhorigstod", "Anhörigstöd"),
            create_unit(db.session, organisation, "psykiatri", "Psykiatrin"),
        ]
        create_staff(
            db.session,
            "admin@stat.example",
            "org_admin",
            organisation,
            None,
            "bench-losenord-1",  # type: ignore[arg-type]
        )
        openings = {}
        for guide_id, _phase in GUIDES:
            guide = library.guide(guide_id)
            first = next(m for m in guide.modules if not m.release.on_demand)
            openings[guide_id] = (first.id, published_version(db.session, first).id)
        db.session.commit()
        calls = [(month, guide) for month in range(12) for guide in GUIDES]
        each = total // len(calls)
        made = 0
        with db.engine.begin() as connection:
            for n, (month, (guide_id, phase)) in enumerate(calls):
                count = each if n < len(calls) - 1 else total - made
                start = datetime(2026, 1 + month, 3, 10, tzinfo=UTC)
                create_enrolments(
                    connection,
                    prefix=f"m{month}{guide_id[:3]}",
                    count=count,
                    organisation_id=organisation.id,
                    unit_id=units[n % 2].id,
                    guide_id=guide_id,
                    phase=phase,
                    activated_at=start,
                    next_due_at=None,
                    opening_module=openings[guide_id],
                )
                made += count
            statements = [
                # 70 % consent to statistics.
                "INSERT INTO consent (relative_id, purpose, version, granted, recorded_at)"
                " SELECT id, 'statistics', '1', (id % 10) < 7, created_at FROM relative",
                # One answered check-in each, with ork 1..5.
                "INSERT INTO checkin_instance (enrolment_id, checkin_id, due_at, opened_at,"
                " answered_at, answers)"
                " SELECT id, 'hur-orkar-du', activated_at + interval '5 days',"
                " activated_at + interval '5 days', activated_at + interval '5 days',"
                " json_build_object('ork', (id % 5) + 1) FROM enrolment",
                # Half opened their module.
                "UPDATE release SET read_at = released_at + interval '1 day'"
                " WHERE enrolment_id % 2 = 0",
                # A fifth ticked a need.
                "INSERT INTO need_tick (enrolment_id, module_id, need_id, ticked_at)"
                " SELECT e.id, r.module_id, 'prata', e.activated_at + interval '2 days'"
                " FROM enrolment e JOIN release r ON r.enrolment_id = e.id WHERE e.id % 5 = 0",
                # One in twenty raised an alert, contacted after a few hours.
                "INSERT INTO alert (enrolment_id, organisation_id, unit_id, priority, source,"
                " reason, status, created_at, first_contact_at)"
                " SELECT id, organisation_id, unit_id, 'normal', 'rule', 'Låg ork', 'open',"
                " activated_at + interval '5 days',"
                " activated_at + interval '5 days' + (id % 48) * interval '1 hour'"
                " FROM enrolment WHERE id % 20 = 0",
                "ANALYZE",
            ]
            for statement in statements:
                connection.execute(sa.text(statement))
        db.engine.dispose()
        return {"organisation": organisation.id, "unit": units[0].id, "enrolments": made}


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--enrolments", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    args = parser.parse_args()
    url = fresh_schema(args.database, args.schema)
    try:
        app = bench_app(url, GUIDE_RATELIMIT_ENABLED="0")
        with timed(f"generating {args.enrolments:,} enrolments"):
            ids = populate(app, args.enrolments)
        run(app, ids)
    finally:
        if not args.keep:
            drop_schema(args.database, args.schema)


def run(app: object, ids: dict[str, int]) -> None:
    from guide.extensions import db
    from guide.models import Unit
    from guide.services.library import current_library
    from guide.services.stats import Period, Scope, compute_statistics
    from tests.checkin_support import log_in_staff

    period = Period((2026, 1), (2026, 12))
    with app.app_context():  # type: ignore[attr-defined]
        units = db.session.scalars(sa.select(Unit).order_by(Unit.name)).all()
        started = time.perf_counter()
        counted = db.session.scalar(sa.text("SELECT count(*) FROM enrolment"))
        reference = time.perf_counter() - started
        assert counted == ids["enrolments"]
        library = current_library()
        with timed("compute_statistics, whole organisation, 12 months") as whole:
            stats = compute_statistics(
                db.session, library, Scope(ids["organisation"], None), period, units
            )
        cards = stats.table("cards").numbers.column_totals
        assert cards[0].value == ids["enrolments"], cards
        ork = stats.table("ork").numbers.grand_total
        assert ork is not None and ork.value is not None
        assert abs(ork.value - ids["enrolments"] * 0.7) < ids["enrolments"] * 0.02, ork
        with timed("compute_statistics, one unit, 12 months") as one:
            compute_statistics(
                db.session, library, Scope(ids["organisation"], ids["unit"]), period, units
            )
        from guide.models import StaffUser

        admin = db.session.scalar(sa.select(StaffUser))
        client = app.test_client()  # type: ignore[attr-defined]
        log_in_staff(client, admin)  # type: ignore[arg-type]
        pages = []
        for _ in range(3):
            started = time.perf_counter()
            page = client.get("/admin/statistik/?fran=2026-01&till=2026-12")
            pages.append(time.perf_counter() - started)
            assert page.status_code == 200, page.status_code
        db.engine.dispose()
    best = min(pages)
    print()
    print("| what | seconds | × SELECT count(*) over enrolment |")
    print("|---|---|---|")
    print(f"| SELECT count(*) over {ids['enrolments']:,} enrolments | {reference:.3f} | 1 |")
    for label, seconds in (
        ("compute_statistics, organisation", whole["seconds"]),
        ("compute_statistics, one unit", one["seconds"]),
        ("GET /admin/statistik/ (best of 3)", best),
    ):
        print(f"| {label} | {seconds:.3f} | {seconds / reference:,.0f} |")


if __name__ == "__main__":
    main()
