"""Benchmark: the editors' journey simulator, a year of each shipped persona, pure and over the API.

    python -m tests.bench.simulator [--repeat 20]

Prints the median and the slowest time of `journey_timeline` for 365 days per persona
of tests/test_shipped_journeys.py, and of `POST /api/v1/editor/simulate` (with and
without drafts) on an app built from environment variables over SQLite in a scratch
folder. Beside each, as the same-run reference, one `plan()` call. Asserts only that
the timelines are not empty.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from guide.content.loader import load_library
from scheduler.planner import EnrolmentState, plan
from tests.test_shipped_journeys import ACTIVATED, RELATIVES

CONTENT = Path(__file__).resolve().parents[2] / "content"


def timed(work: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, max(times) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from guide.services.simulation import journey_timeline

    library = load_library(CONTENT)
    print(f"journey simulator, 365 days, median and slowest of {args.repeat} runs")
    for (guide_id, name), relative in RELATIVES.items():
        guide = library.guide(guide_id)
        state = EnrolmentState.enrol(ACTIVATED, guide.first_phase.id, profile=relative.profile)
        one_plan, _, _ = timed(partial(plan, guide, state, ACTIVATED), args.repeat)
        script = {c: [dict(a) for a in answers] for c, answers in relative.script.items()}
        median, worst, items = timed(
            partial(
                journey_timeline,
                guide,
                start=ACTIVATED,
                days=365,
                profile=relative.profile,
                answers=script,
            ),
            args.repeat,
        )
        assert items, "an empty timeline"
        print(
            f"  {guide_id:13} {name:7} {len(items):4} items  {median:7.1f} ms median  "
            f"{worst:7.1f} ms slowest  (one plan(): {one_plan:.2f} ms, ratio {median / one_plan:.0f}x)"
        )
    _over_the_api(args.repeat)


def _over_the_api(repeat: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lots-bench-sim-"))
    os.environ.update(
        {
            "GUIDE_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "GUIDE_INSTANCE_DIR": str(folder),
            "GUIDE_SECRET_KEY": "bench-secret-0123456789abcdef",
            "GUIDE_RUN_SCHEDULER": "0",
            "GUIDE_CONTENT_DIR": str(CONTENT),
        }
    )
    from guide import create_app
    from guide.extensions import db
    from guide.models import StaffRole
    from guide.models.base import utcnow
    from guide.services.accounts import create_staff, issue_api_token

    app = create_app()
    with app.app_context():
        db.create_all()
        editor = create_staff(db.session, "bench@redaktion.se", StaffRole.EDITOR, None, None, None)
        token = issue_api_token(db.session, utcnow(), staff=editor)
        db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        relative = RELATIVES[("demenslots", "svarar")]
        script = {c: [dict(a) for a in answers] for c, answers in relative.script.items()}
        for drafts in (False, True):
            body = {
                "guide": "demenslots",
                "profile": {k: v for k, v in relative.profile.items()},
                "answers": script,
                "days": 365,
                "include_drafts": drafts,
            }
            median, worst, answer = timed(
                lambda: client.post("/api/v1/editor/simulate", json=body, headers=headers),  # noqa: B023
                repeat,
            )
            assert answer.status_code == 200 and answer.get_json()["timeline"], answer.get_json()
            print(
                f"  POST /api/v1/editor/simulate demenslots svarar include_drafts={drafts}: "
                f"{median:.1f} ms median, {worst:.1f} ms slowest"
            )


if __name__ == "__main__":
    main()
