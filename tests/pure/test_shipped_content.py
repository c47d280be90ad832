"""The three shipped guides meet the content promises: coverage, check-ins, language, numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from guide.content.checker import check_content
from guide.content.model import (
    Action,
    Answers,
    Guide,
    RaiseAlert,
    ReleaseModule,
    SetPhase,
    ShowCrisis,
    Text,
)
from guide.content.readability import lix
from scheduler.planner import EnrolmentState
from scheduler.rules import answer_checkin
from tests.conftest import SHIPPED_CONTENT
from tests.pure.shipped import shipped_library

GUIDES = ["aterhamtning", "demenslots", "efterlevande"]
# National numbers we are certain of; anything else local is a {{ local.* }} placeholder.
# 077-150 50 50 is Bris's line for adults who are worried about a child.
ALLOWED_NUMBERS = {"112", "1177", "113 13", "90101", "116 111", "077-150 50 50"}
PHONE_LIKE = re.compile(r"(?<![\w.-])(?:\d[\d -]{1,12}\d|\d{3,})(?![\w.-])")


def guide(guide_id: str) -> Guide:
    return shipped_library().guide(guide_id)


def test_content_check_is_clean_even_at_lix_45() -> None:
    assert [str(p) for p in check_content(SHIPPED_CONTENT, lix_limit=45)] == []


@pytest.mark.parametrize("guide_id", GUIDES)
def test_each_guide_has_fourteen_modules_over_all_phases(guide_id: str) -> None:
    g = guide(guide_id)
    assert len(g.modules) >= 14
    for phase in g.phases:
        opening = [
            m
            for m in g.modules_in_phase(phase.id)
            if m.release.after is not None
            and m.release.after.days == 0
            and m.release.anchor == "phase"
        ]
        assert opening, f"phase {phase.id} of {guide_id} has no opening module"
        assert all("en" in m.texts for m in opening), f"opening module of {phase.id} lacks English"


@pytest.mark.parametrize("guide_id", GUIDES)
def test_every_guide_text_has_english(guide_id: str) -> None:
    g = guide(guide_id)
    texts: list[Text] = [g.title, g.summary, *(p.title for p in g.phases)]
    for question in g.questions():
        texts.append(question.text)
        texts.extend(option.text for option in question.options)
    for checkin in g.checkins:
        texts.append(checkin.title)
        texts.extend(a.reason for r in checkin.rules for a in r.then if isinstance(a, RaiseAlert))
    if g.crisis:
        texts.append(g.crisis)
    missing = [t.get("sv") for t in texts if "en" not in t.languages]
    assert missing == []


@pytest.mark.parametrize("guide_id", GUIDES)
def test_check_ins_recur_detect_changes_and_raise_alerts(guide_id: str) -> None:
    g = guide(guide_id)
    actions = [a for c in g.checkins for r in c.rules for a in r.then]
    assert any(c.every is not None for c in g.checkins), "no recurring wellbeing check-in"
    # The journey moves on by an answer, or (efterlevande) by the date the relative gave.
    assert any(isinstance(a, SetPhase) for a in actions) or all(p.at for p in g.phases)
    assert any(isinstance(a, ReleaseModule) for a in actions)
    assert any(isinstance(a, RaiseAlert) for a in actions)


@pytest.mark.parametrize("guide_id", GUIDES)
def test_dark_thoughts_trigger_the_crisis_text(guide_id: str) -> None:
    g = guide(guide_id)
    assert g.crisis is not None
    assert any(isinstance(a, ShowCrisis) for c in g.checkins for r in c.rules for a in r.then)


def test_efterlevande_is_sensitive() -> None:
    assert guide("efterlevande").sensitive


@pytest.mark.parametrize("guide_id", GUIDES)
def test_modules_are_plain_swedish_with_needs(guide_id: str) -> None:
    for module in guide(guide_id).modules:
        assert lix(module.original.body) <= 45, module.id
        assert module.needs, f"{module.id} offers no 'Ditt behov'"


@pytest.mark.parametrize("guide_id", GUIDES)
def test_no_invented_phone_numbers(guide_id: str) -> None:
    for module in guide(guide_id).modules:
        for text in module.texts.values():
            body = re.sub(r"\{\{.*?\}\}", "", text.body)
            # Take the allowed numbers out whole first: one in several groups (077-150 50 50)
            # would otherwise be read in pieces.
            for allowed in sorted(ALLOWED_NUMBERS, key=len, reverse=True):
                body = re.sub(rf"(?<![\d-]){re.escape(allowed)}(?![\d])", " ", body)
            body = re.sub(
                r"\d+ ?(kap|§|år|procent|%|dagar|veckor|månader|timmar|minuter)\b", "", body
            )
            for number in PHONE_LIKE.findall(body):
                digits = number.strip()
                if len(re.sub(r"\D", "", digits)) >= 5 or digits.startswith("0"):
                    assert digits in ALLOWED_NUMBERS, (
                        f"{module.id}: '{digits}' looks like a phone number"
                    )


def test_local_facts_have_national_fallbacks() -> None:
    for fact in shipped_library().local_facts.values():
        assert fact.fallback and fact.description


NOW = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)


def fire(guide_id: str, checkin_id: str, answers: Answers) -> tuple[Action, ...]:
    """Answer one check-in of a shipped guide in its own phase and return what the rules did."""
    g = guide(guide_id)
    checkin = g.checkin(checkin_id)
    phase = checkin.phase or g.first_phase.id
    state = EnrolmentState.enrol(NOW, phase)
    return answer_checkin(g, state, checkin, answers, NOW).effects


def alerts(effects: tuple[Action, ...]) -> list[str]:
    return [e.priority for e in effects if isinstance(e, RaiseAlert)]


@pytest.mark.parametrize(
    ("checkin_id", "question"),
    [("hur-mar-du", "oro-sjalvmord"), ("efter-utskrivningen", "oro-sjalvmord-efter")],
)
def test_worry_that_the_person_will_take_their_life_shows_the_crisis_text_and_alerts_urgently(
    checkin_id: str, question: str
) -> None:
    effects = fire("aterhamtning", checkin_id, {question: "yes"})
    assert any(isinstance(e, ShowCrisis) for e in effects)
    assert "urgent" in alerts(effects)
    # A relative who has had the module since day 1 gets no second copy; a new one gets it now.
    assert ReleaseModule("om-hen-inte-vill-leva") in effects


def test_what_to_do_when_the_person_talks_about_not_wanting_to_live_comes_on_day_one() -> None:
    g = guide("aterhamtning")
    module = g.module("om-hen-inte-vill-leva")
    assert module.release.after is not None and module.release.after.days == 1
    assert {"forsta-kontakt", "utskrivning"} <= set(module.phases)


def phase_changes(effects: tuple[Action, ...]) -> list[str]:
    return [e.phase for e in effects if isinstance(e, SetPhase)]


def test_an_admission_or_a_discharge_is_noticed_in_the_recurring_check_in() -> None:
    admitted = fire("aterhamtning", "hur-mar-du", {"hant-i-varden": frozenset({"inlagd"})})
    assert phase_changes(admitted) == ["slutenvard"]
    both = fire("aterhamtning", "hur-mar-du", {"hant-i-varden": frozenset({"inlagd", "utskriven"})})
    assert phase_changes(both) == ["slutenvard", "utskrivning"]


def test_a_death_reported_in_the_recurring_demenslots_check_in_ends_the_stage_texts() -> None:
    effects = fire("demenslots", "hur-orkar-du", {"hant-sedan-sist": frozenset({"gatt-bort"})})
    assert phase_changes(effects) == ["efterat"]


def test_every_demenslots_check_in_asks_whether_the_person_has_died() -> None:
    g = guide("demenslots")
    for checkin in g.checkins:
        ends_in_the_time_after = [
            a for r in checkin.rules for a in r.then if a == SetPhase("efterat")
        ]
        assert ends_in_the_time_after, f"{checkin.id} does not ask whether the person has died"


def test_demenslots_has_an_answer_for_an_assessment_that_finds_no_dementia() -> None:
    effects = fire("demenslots", "efter-utredningen", {"diagnos-klar": "inte-demens"})
    assert ReleaseModule("nar-svaret-inte-ar-demens") in effects
    assert phase_changes(effects) == []


def test_efterlevande_raises_no_alert_for_low_energy_in_the_first_days() -> None:
    assert alerts(fire("efterlevande", "forsta-dagarna", {"ork-forsta": 1})) == []
    assert alerts(fire("efterlevande", "forsta-dagarna", {"vill-bli-kontaktad-forsta": "yes"}))
    crisis = fire("efterlevande", "forsta-dagarna", {"morka-tankar-forsta": "ofta"})
    assert any(isinstance(e, ShowCrisis) for e in crisis)
    # After the first days low energy does reach staff.
    assert alerts(fire("efterlevande", "hur-har-du-det", {"ork": 1}))


def test_efterlevande_asks_about_worry_for_a_child_more_than_once() -> None:
    g = guide("efterlevande")
    asking = [
        c
        for c in g.checkins
        if any(a == ReleaseModule("oro-for-ett-barn") for r in c.rules for a in r.then)
    ]
    assert len({c.phase for c in asking}) >= 3, [c.id for c in asking]
