"""Tests for firing a check-in's rules: pure, no database, any `now`."""

from __future__ import annotations

from datetime import UTC, datetime

from guide.content.model import (
    Checkin,
    Condition,
    Duration,
    Guide,
    Module,
    ModuleText,
    Mute,
    Phase,
    Question,
    QuestionType,
    RaiseAlert,
    ReleaseModule,
    ReleaseSpec,
    Rule,
    SetPhase,
    ShowCrisis,
    Text,
    When,
)
from scheduler.planner import EnrolmentState, PhaseVisit
from scheduler.rules import (
    answer_checkin,
    rule_context,
)

ACTIVATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
LOW_ORK = When((Condition("ork", lte=2),))
LOW_REASON = Text.of(sv="Låg ork")


def when(question: str, *accepted: str) -> When:
    return When((Condition(question, accepted),))


def module(module_id: str, phase: str = "start", on_demand: bool = True) -> Module:
    release = (
        ReleaseSpec(after=None, on_demand=True)
        if on_demand
        else ReleaseSpec(after=Duration.parse("0d"))
    )
    return Module(
        id=module_id,
        guide="test",
        phases=(phase,),
        release=release,
        texts={"sv": ModuleText("sv", module_id, "", "Text.")},
    )


QUESTIONS = (
    Question("ork", QuestionType.SCALE, Text.of(sv="Ork?")),
    Question("kansla", QuestionType.CHOICE, Text.of(sv="Känsla?")),
    Question("stod", QuestionType.MULTI, Text.of(sv="Stöd?")),
    Question("flyttat", QuestionType.YES_NO, Text.of(sv="Flyttat?")),
    Question("ovrigt", QuestionType.TEXT, Text.of(sv="Övrigt?")),
)


def make(*rules: Rule) -> tuple[Guide, Checkin]:
    checkin = Checkin(
        id="hur-gar-det",
        title=Text.of(sv="Hur går det?"),
        first=Duration.parse("3d"),
        questions=QUESTIONS,
        rules=rules,
    )
    guide = Guide(
        id="test",
        title=Text.of(sv="Test"),
        summary=Text.of(sv="Test"),
        languages=("sv",),
        phases=(Phase("start", Text.of(sv="Start")), Phase("boende", Text.of(sv="Boende"))),
        modules=(
            module("valkommen", on_demand=False),
            module("orka"),
            module("flytt", "boende", on_demand=False),
        ),
        profile=(Question("bor-ihop", QuestionType.YES_NO, Text.of(sv="Bor ni ihop?")),),
        checkins=(checkin,),
    )
    return guide, checkin


def state(**details: object) -> EnrolmentState:
    return EnrolmentState.enrol(ACTIVATED, "start", released=frozenset({"valkommen"}), **details)


def test_release_rule_releases_the_module_now() -> None:
    guide, checkin = make(Rule(LOW_ORK, (ReleaseModule("orka"),)))
    answered = answer_checkin(guide, state(), checkin, {"ork": 1}, NOW)
    assert answered.effects == (ReleaseModule("orka"),)
    assert "orka" in answered.state.released


def test_set_phase_rule_starts_the_phase_now() -> None:
    guide, checkin = make(Rule(when("flyttat", "yes"), (SetPhase("boende"),)))
    answered = answer_checkin(guide, state(), checkin, {"flyttat": "yes"}, NOW)
    assert answered.effects == (SetPhase("boende"),)
    assert answered.state.current_visit == PhaseVisit("boende", NOW)


def test_mute_rule_mutes_a_module_or_phase() -> None:
    guide, checkin = make(Rule(when("stod", "ingen"), (Mute("orka"), Mute("boende"))))
    answered = answer_checkin(guide, state(), checkin, {"stod": frozenset({"ingen"})}, NOW)
    assert answered.effects == (Mute("orka"), Mute("boende"))
    assert answered.state.muted == {"orka", "boende"}


def test_alert_rule_raises_an_alert_with_its_priority_and_reason() -> None:
    guide, checkin = make(Rule(LOW_ORK, (RaiseAlert("normal", LOW_REASON),)))
    answered = answer_checkin(guide, state(), checkin, {"ork": 2}, NOW)
    assert answered.effects == (RaiseAlert("normal", LOW_REASON),)
    assert not answered.crisis


def test_crisis_rule_shows_the_crisis() -> None:
    guide, checkin = make(Rule(when("kansla", "kris"), (ShowCrisis(),)))
    answered = answer_checkin(guide, state(), checkin, {"kansla": "kris"}, NOW)
    assert answered.effects == (ShowCrisis(),)
    assert answered.crisis


def test_rules_fire_in_order_so_an_earlier_mute_stops_a_later_release() -> None:
    mute_first = make(
        Rule(when("stod", "ingen"), (Mute("orka"),)), Rule(LOW_ORK, (ReleaseModule("orka"),))
    )
    release_first = make(
        Rule(LOW_ORK, (ReleaseModule("orka"),)), Rule(when("stod", "ingen"), (Mute("orka"),))
    )
    answers = {"ork": 1, "stod": frozenset({"ingen"})}

    muted = answer_checkin(mute_first[0], state(), mute_first[1], answers, NOW)
    released = answer_checkin(release_first[0], state(), release_first[1], answers, NOW)

    assert muted.effects == (Mute("orka"),)
    assert released.effects == (ReleaseModule("orka"), Mute("orka"))


def test_every_rule_that_holds_fires_and_actions_keep_their_order() -> None:
    guide, checkin = make(
        Rule(LOW_ORK, (ReleaseModule("orka"), RaiseAlert("normal", LOW_REASON))),
        Rule(when("kansla", "kris"), (ShowCrisis(),)),
        Rule(when("flyttat", "yes"), (SetPhase("boende"),)),
    )
    answered = answer_checkin(
        guide, state(), checkin, {"ork": 1, "kansla": "kris", "flyttat": "yes"}, NOW
    )
    assert answered.effects == (
        ReleaseModule("orka"),
        RaiseAlert("normal", LOW_REASON),
        ShowCrisis(),
        SetPhase("boende"),
    )


def test_a_rule_that_does_not_hold_changes_nothing() -> None:
    guide, checkin = make(Rule(LOW_ORK, (ReleaseModule("orka"),)))
    answered = answer_checkin(guide, state(), checkin, {"ork": 3}, NOW)
    assert answered.effects == ()
    assert answered.state.released == {"valkommen"}
    assert answered.state.answers == {"ork": 3}


def test_a_skipped_question_does_not_fire_on_last_times_answer() -> None:
    guide, checkin = make(Rule(LOW_ORK, (RaiseAlert("normal", LOW_REASON),)))
    earlier = state(answers={"ork": 1})

    answered = answer_checkin(guide, earlier, checkin, {}, NOW)

    assert answered.effects == ()
    # The earlier answer stays for module conditions: skipping is not taking it back.
    assert answered.state.answers == {"ork": 1}


def test_profile_answers_count_in_rule_conditions() -> None:
    both = When((Condition("bor-ihop", ("yes",)), Condition("ork", lte=2)))
    guide, checkin = make(Rule(both, (ReleaseModule("orka"),)))
    answered = answer_checkin(guide, state(profile={"bor-ihop": "yes"}), checkin, {"ork": 2}, NOW)
    assert answered.effects == (ReleaseModule("orka"),)
    alone = answer_checkin(guide, state(profile={"bor-ihop": "no"}), checkin, {"ork": 2}, NOW)
    assert alone.effects == ()


def test_rule_context_takes_this_checkins_questions_only_from_this_answer() -> None:
    _, checkin = make()
    earlier = state(profile={"bor-ihop": "yes"}, answers={"ork": 1, "annan-fraga": "yes"})
    context = rule_context(earlier, checkin, {"flyttat": "no"})
    assert dict(context) == {"bor-ihop": "yes", "annan-fraga": "yes", "flyttat": "no"}


def test_every_question_type_can_trigger_a_rule() -> None:
    cases = [
        (When((Condition("ork", gte=4),)), {"ork": 5}),
        (when("kansla", "orolig", "kris"), {"kansla": "orolig"}),
        (when("stod", "ingen"), {"stod": frozenset({"familj", "ingen"})}),
        (when("flyttat", "yes"), {"flyttat": "yes"}),
        (when("ovrigt", "hjälp"), {"ovrigt": "hjälp"}),
    ]
    for condition, answers in cases:
        guide, checkin = make(Rule(condition, (ReleaseModule("orka"),)))
        assert answer_checkin(guide, state(), checkin, answers, NOW).effects == (
            ReleaseModule("orka"),
        ), answers


def test_nothing_is_released_twice_nor_a_muted_module() -> None:
    guide, checkin = make(Rule(LOW_ORK, (ReleaseModule("valkommen"), ReleaseModule("orka"))))
    answered = answer_checkin(guide, state(muted=frozenset({"orka"})), checkin, {"ork": 1}, NOW)
    assert answered.effects == ()


def test_moving_to_the_current_phase_or_muting_again_changes_nothing() -> None:
    guide, checkin = make(Rule(LOW_ORK, (SetPhase("start"), Mute("orka"))))
    answered = answer_checkin(guide, state(muted=frozenset({"orka"})), checkin, {"ork": 1}, NOW)
    assert answered.effects == ()
    assert answered.state.phase_history == (PhaseVisit("start", ACTIVATED),)


def test_actions_naming_removed_content_are_left_out() -> None:
    guide, checkin = make(Rule(LOW_ORK, (ReleaseModule("borttagen"), SetPhase("borttagen"))))
    answered = answer_checkin(guide, state(), checkin, {"ork": 1}, NOW)
    assert answered.effects == ()


def test_state_passed_in_is_not_changed() -> None:
    guide, checkin = make(Rule(LOW_ORK, (ReleaseModule("orka"), SetPhase("boende"))))
    before = state()
    answer_checkin(guide, before, checkin, {"ork": 1}, NOW)
    assert before.released == {"valkommen"} and before.answers == {}
    assert before.current_visit.phase == "start"
