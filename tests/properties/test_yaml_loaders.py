"""libyaml's fast reading of content YAML gives what the Python reader gives, lines included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from guide.content import yamlsource
from guide.content.loader import FRONT_MATTER
from guide.content.yamlsource import LineList, LineMap, YamlProblem

ROOT = Path(__file__).resolve().parents[2]


def yaml_texts() -> list[tuple[str, str]]:
    """Every YAML text in the content and the test fixtures: files and front matter."""
    texts = []
    for folder in (ROOT / "content", ROOT / "tests" / "fixtures"):
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".yaml", ".yml"):
                texts.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
            elif path.suffix == ".md":
                match = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
                if match:
                    texts.append((str(path.relative_to(ROOT)), match.group(1)))
    return texts


def outcome(text: str, loader: type[yaml.SafeLoader]) -> Any:
    try:
        return ("value", shape(yaml.load(text, Loader=loader)))
    except YamlProblem as problem:
        return ("problem", problem.line, problem.message)
    except yaml.YAMLError:
        return ("invalid",)


def shape(value: Any) -> Any:
    """The value with the line of every mapping, key, sequence and item beside it."""
    if isinstance(value, LineMap):
        return ("map", value.line, [(k, value.key_lines[k], shape(v)) for k, v in value.items()])
    if isinstance(value, LineList):
        return ("seq", value.line, list(zip(value.item_lines, map(shape, value), strict=True)))
    return (type(value).__name__, value)


@pytest.mark.skipif(not yamlsource.FAST, reason="PyYAML without libyaml here")
def test_libyaml_reads_every_yaml_text_of_the_repository_as_the_python_reader_does() -> None:
    texts = yaml_texts()
    assert len(texts) > 100  # the shipped guides and the fixtures, not an empty folder
    for name, text in texts:
        slow = outcome(text, yamlsource._LineLoader)
        fast = outcome(text, yamlsource._FastLineLoader)
        assert fast == slow or fast == ("invalid",), name  # invalid: the Python reader decides


@pytest.mark.parametrize(
    "text",
    [
        "text: {sv: Vem är du för personen?}\n",  # YAML 1.2's `?` in a flow mapping
        "a: 1\na: 2\n",  # a duplicate key
        "a: [1, 2\n",  # not YAML at all
        "list:\n  - x\n  - {y: 1}\n",
    ],
)
def test_parse_yaml_answers_alike_with_and_without_libyaml(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def parsed() -> Any:
        try:
            return ("value", shape(yamlsource.parse_yaml(text, first_line=3)))
        except YamlProblem as problem:
            return ("problem", problem.line, problem.message)

    fast = parsed()
    monkeypatch.setattr(yamlsource, "FAST", False)
    assert parsed() == fast
