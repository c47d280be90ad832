"""Each class of content problem, on a small broken copy of the fixture, with its exact place."""

from __future__ import annotations

from pathlib import Path

import pytest

from guide.content.checker import check_content


def edit(root: Path, relative: str, old: str, new: str) -> str:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


def problems(root: Path) -> list[str]:
    return [str(p) for p in check_content(root)]


def test_good_fixture_has_no_problems(content_copy: Path) -> None:
    assert problems(content_copy) == []


def test_reports_invalid_yaml_with_its_line(content_copy: Path) -> None:
    path = edit(content_copy, "stod/guide.yaml", "sensitive: false", "sensitive: [false")
    assert problems(content_copy) == [f"{path}:6: invalid YAML: expected ',' or ']', but got ':'"]


def test_reports_invalid_front_matter_at_the_file_line(content_copy: Path) -> None:
    path = edit(content_copy, "stod/modules/avlosning.md", "phase: start", "phase: [start")
    # YAML notices the missing bracket where the next field starts.
    assert f"{path}:5: invalid YAML: expected ',' or ']', but got ':'" in problems(content_copy)


def test_reports_a_duplicate_yaml_key(content_copy: Path) -> None:
    path = edit(
        content_copy, "stod/guide.yaml", "sensitive: false", "sensitive: false\nsensitive: true"
    )
    assert problems(content_copy) == [f"{path}:6: duplicate key 'sensitive'"]


def test_reports_a_missing_field(content_copy: Path) -> None:
    path = edit(content_copy, "stod/modules/sedan.md", "summary: Om tiden som kommer.\n", "")
    assert problems(content_copy) == [f"{path}:2: missing field 'summary' in the module"]


def test_reports_an_unknown_field_with_a_suggestion(content_copy: Path) -> None:
    path = edit(
        content_copy,
        "stod/modules/sedan.md",
        "title: Livet sedan",
        "titel: Livet sedan\ntitle: Livet sedan",
    )
    assert problems(content_copy) == [
        f"{path}:3: unknown field 'titel' in the module (did you mean 'title'?)"
    ]


def test_reports_a_duplicate_phase_id(content_copy: Path) -> None:
    path = edit(
        content_copy,
        "stod/guide.yaml",
        "  - id: sedan\n    title: {sv: Sedan}",
        "  - id: start\n    title: {sv: Sedan}",
    )
    assert f"{path}:12: duplicate phase id 'start'" in problems(content_copy)


def test_reports_a_duplicate_question_id(content_copy: Path) -> None:
    path = edit(content_copy, "stod/guide.yaml", "- id: kontakt", "- id: ork")
    assert f"{path}:33: duplicate question id 'ork'" in problems(content_copy)


def test_reports_a_module_id_that_does_not_match_its_file(content_copy: Path) -> None:
    path = edit(content_copy, "stod/modules/sedan.md", "id: sedan", "id: valkommen")
    assert f"{path}:2: the module id 'valkommen' must match the file name 'sedan.md'" in problems(
        content_copy
    )


def test_reports_a_module_naming_an_unknown_phase(content_copy: Path) -> None:
    path = edit(content_copy, "stod/modules/sedan.md", "phase: sedan", "phase: senare")
    assert problems(content_copy) == [f"{path}:4: the module names unknown phase 'senare'"]


def test_reports_a_rule_releasing_an_unknown_module(content_copy: Path) -> None:
    path = edit(content_copy, "stod/guide.yaml", "{release: extra}", "{release: extraa}")
    found = problems(content_copy)
    assert f"{path}:38: the rule releases unknown module 'extraa'" in found


def test_reports_a_rule_moving_to_an_unknown_phase(content_copy: Path) -> None:
    path = edit(content_copy, "stod/guide.yaml", "{set_phase: sedan}", "{set_phase: senare}")
    assert problems(content_copy) == [f"{path}:40: unknown phase 'senare'"]


def test_reports_a_condition_on_an_unknown_question(content_copy: Path) -> None:
    path = edit(content_copy, "stod/guide.yaml", "when: {kontakt: yes}", "when: {kontakten: yes}")
    assert problems(content_copy) == [
        f"{path}:39: the condition names unknown question 'kontakten'"
    ]


def test_reports_a_condition_on_an_option_the_question_lacks(content_copy: Path) -> None:
    path = edit(
        content_copy,
        "stod/modules/avlosning.md",
        "when: {bor-ihop: yes}",
        "when: {relation: syskon}",
    )
    assert problems(content_copy) == [
        f"{path}:6: question 'relation' has no option 'syskon' (options: partner, barn)"
    ]


def test_reports_a_condition_that_can_never_hold(content_copy: Path) -> None:
    path = edit(content_copy, "stod/guide.yaml", "{ork: {lte: 2}}", "{ork: {lte: 2, gte: 4}}")
    assert problems(content_copy) == [f"{path}:37: the condition on 'ork' can never hold"]


def test_reports_an_undeclared_local_fact(content_copy: Path) -> None:
    path = edit(
        content_copy,
        "stod/modules/valkommen.md",
        "local.anhorigstod.telefon",
        "local.anhorigstod.epost",
    )
    assert problems(content_copy) == [
        f"{path}:12: undeclared local fact 'anhorigstod.epost' (declare it in local.yaml)"
    ]


def test_reports_a_translation_without_its_original(content_copy: Path) -> None:
    original = content_copy / "stod/modules/sedan.md"
    translation = content_copy / "stod/modules/senare.en.md"
    translation.write_text("---\nid: senare\ntitle: Later\nsummary: Later.\n---\nLater.\n")
    assert original.exists()
    assert problems(content_copy) == [
        f"{translation}:2: translation without its original: there is no senare.md"
    ]


def test_reports_a_module_that_can_never_be_released(content_copy: Path) -> None:
    edit(content_copy, "stod/guide.yaml", "then: [{release: extra}, ", "then: [")
    path = content_copy / "stod/modules/extra.md"
    assert problems(content_copy) == [
        f"{path}:1: module 'extra' can never be released: it is on_demand and no rule releases it"
    ]


def test_reports_a_broken_internal_link(content_copy: Path) -> None:
    path = edit(content_copy, "stod/modules/valkommen.md", "(avlosning.md)", "(avlosningar.md)")
    assert problems(content_copy) == [
        f"{path}:12: broken link 'avlosningar.md': no such module in this guide"
    ]


def test_warns_about_hard_to_read_text_above_lix_50(content_copy: Path) -> None:
    long_words = " ".join(
        ["Kommunikationssvårigheter förekommer regelbundet mellan anhörigkonsulenter"] * 5
    )
    path = edit(content_copy, "stod/modules/sedan.md", "Nu börjar en ny tid.", long_words + ".")
    found = check_content(content_copy)
    assert [str(p) for p in found] == [
        f"{path}:8: warning: LIX 105 is above 50: use shorter sentences and words"
    ]
    assert found[0].severity == "warning"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "type: scale",
            "type: slider",
            31,
            "question 'ork' has unknown type 'slider' (use one of choice, multi, yes_no, scale, text, date)",
        ),
        (
            "first: 3d",
            "first: 3 dagar",
            27,
            "'first': '3 dagar' is not a duration; write it like 7d, 2w or 12h",
        ),
        (
            "    duration: 14d\n",
            "",
            8,
            "phase 'start' needs both 'duration' and 'next' to end by itself "
            "(or a next phase that starts by itself with 'at')",
        ),
        (
            "{set_phase: sedan}",
            "{jump: sedan}",
            40,
            "unknown action 'jump' (use release, set_phase, alert, mute or crisis)",
        ),
    ],
)
def test_reports_guide_yaml_mistakes(
    content_copy: Path, old: str, new: str, line: int, message: str
) -> None:
    path = edit(content_copy, "stod/guide.yaml", old, new)
    assert f"{path}:{line}: {message}" in problems(content_copy)
