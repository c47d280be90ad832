"""`followups:` in guide.yaml: what the loader reads, what the checker reports, what ships."""

from __future__ import annotations

from pathlib import Path

from guide.content.checker import check_content
from guide.content.loader import load_library
from guide.content.model import Duration
from scheduler.followups import plan_followups
from scheduler.planner import EnrolmentState, PhaseVisit
from tests.conftest import TESTS, at
from tests.pure.shipped import shipped_library

FOLLOWUP_CONTENT = TESTS / "fixtures" / "content" / "followups"
CALL = """followups:
  - id: ring
    after: 3d
    within: 7d
    reason: {sv: Ring}
"""


def with_followups(root: Path, block: str) -> str:
    path = root / "stod" / "guide.yaml"
    path.write_text(path.read_text(encoding="utf-8") + block, encoding="utf-8")
    return str(path)


def lines_of(root: Path) -> int:
    return len((root / "stod" / "guide.yaml").read_text(encoding="utf-8").splitlines())


def test_the_loader_reads_every_field_of_a_followup() -> None:
    guide = load_library(FOLLOWUP_CONTENT).guide("stod")
    partner = guide.followup("ring-partner")
    assert partner.after == Duration(8, "d")
    assert partner.within == Duration(7, "d")
    assert partner.phase is None
    assert partner.reason.get("en") == "A call to the partner after a week"
    assert partner.when.conditions[0].accepted == ("partner",)
    assert guide.followup("ring-i-nya-fasen").phase == "sedan"


def test_the_checker_reports_unknown_fields_and_bad_durations_at_their_line(
    content_copy: Path,
) -> None:
    start = lines_of(content_copy)
    path = with_followups(
        content_copy,
        CALL.replace("within: 7d", "within: en vecka\n    inom: 7d"),
    )
    found = [str(p) for p in check_content(content_copy)]
    assert (
        f"{path}:{start + 4}: 'within': 'en vecka' is not a duration; write it like 7d, 2w or 12h"
        in found
    )
    assert any(
        p.startswith(f"{path}:{start + 5}: unknown field 'inom' in a follow-up") for p in found
    )


def test_the_checker_reports_a_missing_field_and_a_duplicate_id(content_copy: Path) -> None:
    start = lines_of(content_copy)
    second = CALL.split("\n", 1)[1]
    path = with_followups(content_copy, CALL + second + second.replace("    within: 7d\n", ""))
    found = [str(p) for p in check_content(content_copy)]
    assert f"{path}:{start + 6}: duplicate follow-up id 'ring'" in found
    assert f"{path}:{start + 10}: missing field 'within' in a follow-up" in found


def test_the_checker_knows_phases_and_questions_in_from_and_when(content_copy: Path) -> None:
    start = lines_of(content_copy)
    block = CALL.replace("within: 7d", "within: 7d\n    from: mitten\n    when: {relation: syskon}")
    path = with_followups(content_copy, block)
    found = [str(p) for p in check_content(content_copy)]
    assert (
        f"{path}:{start + 5}: follow-up 'ring' counts from 'mitten', which is neither a phase "
        "nor a date question of this guide"
    ) in found
    assert any(
        p.startswith(f"{path}:{start + 6}: question 'relation' has no option 'syskon'")
        for p in found
    )


def test_a_followup_cannot_count_from_a_question_that_is_not_a_date(content_copy: Path) -> None:
    start = lines_of(content_copy)
    path = with_followups(content_copy, CALL.replace("within: 7d", "within: 7d\n    from: ork"))
    found = [str(p) for p in check_content(content_copy)]
    assert (
        f"{path}:{start + 5}: follow-up 'ring' counts from question 'ork', which is not a date "
        "question; write from: activation, from: <phase> or from: <date question>"
    ) in found


def test_the_shipped_guides_call_after_the_diagnosis_first_contact_discharge_and_in_grief() -> None:
    library = shipped_library()
    expected = {
        "demenslots": {"ring-efter-diagnosen": "tidig"},
        "aterhamtning": {
            "ring-efter-forsta-kontakten": "forsta-kontakt",
            "ring-efter-utskrivningen": "utskrivning",
        },
        "efterlevande": {"ring-forsta-veckan": None, "ring-infor-arsdagen": None},
    }
    for guide_id, calls in expected.items():
        guide = library.guide(guide_id)
        assert {f.id: f.phase for f in guide.followups} == calls


def test_the_bereaved_are_called_within_the_first_week() -> None:
    guide = shipped_library().guide("efterlevande")
    activated = at("2026-03-02 20:00")  # a Monday evening
    state = EnrolmentState(activated_at=activated, phase_history=(PhaseVisit("akut", activated),))
    due = plan_followups(guide, state, frozenset(), at("2026-03-09 09:00")).calls
    (call,) = due
    assert call.followup_id == "ring-forsta-veckan"
    assert call.due_at == at("2026-03-05 09:00")
    assert call.target_at <= at("2026-03-09 17:00")


def test_the_anniversary_call_counts_from_the_date_of_the_death() -> None:
    guide = shipped_library().guide("efterlevande")
    call = guide.followup("ring-infor-arsdagen")
    assert call.date_question == "dodsdatum"
    # Enrolled 40 days after the death: the call comes two weeks before the anniversary.
    activated = at("2026-04-20 10:00")
    state = EnrolmentState(
        activated_at=activated,
        phase_history=(PhaseVisit("forsta-tiden", activated),),
        profile={"dodsdatum": "2026-03-11"},
    )
    decided = plan_followups(guide, state, frozenset({"ring-forsta-veckan"}), activated)
    assert decided.next_at == at("2027-02-25 09:00")  # 11 March 2026 + 351 days, a Thursday
    # Without the date, it counts from activation.
    skipped = EnrolmentState(activated_at=activated, phase_history=(PhaseVisit("akut", activated),))
    decided = plan_followups(guide, skipped, frozenset({"ring-forsta-veckan"}), activated)
    assert decided.next_at == at("2027-04-06 09:00")  # 20 April 2026 + 351 days
