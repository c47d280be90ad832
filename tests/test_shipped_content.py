"""The three shipped guides meet the content promises: coverage, check-ins, language, numbers."""

from __future__ import annotations

import re

import pytest

from guide.content.checker import check_content
from guide.content.loader import load_library
from guide.content.model import Guide, RaiseAlert, ReleaseModule, SetPhase, ShowCrisis, Text
from guide.content.readability import lix
from tests.conftest import SHIPPED_CONTENT

LIBRARY = load_library(SHIPPED_CONTENT)
GUIDES = ["aterhamtning", "demenslots", "efterlevande"]
# National numbers we are certain of; anything else local is a {{ local.* }} placeholder.
# 077-150 50 50 is Bris's line for adults who are worried about a child.
ALLOWED_NUMBERS = {"112", "1177", "113 13", "90101", "116 111", "077-150 50 50"}
PHONE_LIKE = re.compile(r"(?<![\w.-])(?:\d[\d -]{1,12}\d|\d{3,})(?![\w.-])")


def guide(guide_id: str) -> Guide:
    return LIBRARY.guide(guide_id)


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
    assert any(isinstance(a, SetPhase) for a in actions)
    assert any(isinstance(a, ReleaseModule) for a in actions)
    assert any(isinstance(a, RaiseAlert) for a in actions)


@pytest.mark.parametrize("guide_id", ["aterhamtning", "efterlevande"])
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
    for fact in LIBRARY.local_facts.values():
        assert fact.fallback and fact.description
