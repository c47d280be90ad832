"""The loader turns the content format into typed, immutable objects."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from guide.content.loader import ContentError, load_library
from guide.content.model import (
    Duration,
    QuestionType,
    RaiseAlert,
    ReleaseModule,
    SetPhase,
)
from tests.conftest import FIXTURE_CONTENT
from tests.pure.shipped import shipped_library


@pytest.fixture(scope="module")
def guide():  # type: ignore[no-untyped-def]
    return load_library(FIXTURE_CONTENT).guide("stod")


def test_loads_phases_with_duration_and_next(guide) -> None:  # type: ignore[no-untyped-def]
    start = guide.phase("start")
    assert start.duration == Duration(14, "d")
    assert start.next == "sedan"
    assert guide.phase("sedan").duration is None
    assert guide.first_phase.id == "start"


def test_loads_profile_questions_and_options(guide) -> None:  # type: ignore[no-untyped-def]
    relation, lives_together = guide.profile
    assert relation.type is QuestionType.CHOICE
    assert relation.option_ids == ("partner", "barn")
    assert relation.text.get("sv") == "Vem är du för personen?"
    assert lives_together.option_ids == ("yes", "no")


def test_loads_checkin_rules_as_typed_actions(guide) -> None:  # type: ignore[no-untyped-def]
    checkin = guide.checkin("hur-gar-det")
    assert checkin.first == Duration(3, "d") and checkin.every == Duration(30, "d")
    low, contact = checkin.rules
    assert low.then[0] == ReleaseModule("extra")
    assert isinstance(low.then[1], RaiseAlert) and low.then[1].priority == "normal"
    assert contact.then == (SetPhase("sedan"),)
    assert low.when.holds({"ork": 2}) and not low.when.holds({"ork": 3})


def test_yes_no_written_as_yaml_boolean_means_yes(guide) -> None:  # type: ignore[no-untyped-def]
    rule = guide.checkin("hur-gar-det").rules[1]
    assert rule.when.holds({"kontakt": "yes"})
    assert not rule.when.holds({"kontakt": "no"})
    assert not rule.when.holds({})


def test_module_has_release_translation_and_needs(guide) -> None:  # type: ignore[no-untyped-def]
    module = guide.module("valkommen")
    assert module.release.after == Duration(0, "d") and module.release.anchor == "phase"
    assert module.text("en").title == "Welcome"
    assert module.text("de").title == "Välkommen"  # falls back to the original
    assert module.needs[0].text.get("en") == "I want to talk to someone"
    assert len(module.content_hash) == 64


def test_objects_are_immutable(guide) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(dataclasses.FrozenInstanceError):
        guide.id = "other"
    with pytest.raises(TypeError):
        guide.module("valkommen").texts["sv"] = None


def test_on_demand_module_has_no_schedule(guide) -> None:  # type: ignore[no-untyped-def]
    assert guide.module("extra").release.on_demand
    assert guide.module("extra").release.after is None


def test_load_library_refuses_content_with_errors(content_copy: Path) -> None:
    (content_copy / "stod/modules/sedan.md").write_text("no front matter")
    with pytest.raises(ContentError) as raised:
        load_library(content_copy)
    assert "a module starts with front matter" in str(raised.value)


def test_shipped_content_loads_all_three_guides() -> None:
    library = shipped_library()
    assert set(library.guides) >= {"aterhamtning", "demenslots", "efterlevande"}
    assert library.guide("efterlevande").sensitive
    assert library.guide("efterlevande").crisis is not None
