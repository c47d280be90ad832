"""YAML reading that remembers the line of every key and item, and refuses duplicate keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


class LineMap(dict[str, Any]):
    """A YAML mapping that knows the line of itself and of each key."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that knows the line of itself and of each item."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


@dataclass(frozen=True)
class YamlProblem(Exception):
    line: int
    message: str


_BLANK = "\0 \t\r\n\x85\u2028\u2029"


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that builds LineMap/LineList and reports duplicate keys."""

    def scan_plain(self) -> yaml.ScalarToken:
        """Scan a plain scalar as YAML 1.2 does: `?` may end a word inside `{...}`.

        PyYAML follows YAML 1.1 and stops at `?` in flow context, so the content
        format's own example `text: {sv: Vem är du för personen?}` would not parse.
        This is PyYAML's scan_plain with only that restriction lifted.
        """
        chunks: list[str] = []
        start_mark = self.get_mark()
        end_mark = start_mark
        indent = self.indent + 1
        spaces: list[str] | None = []
        while True:
            length = 0
            if self.peek() == "#":
                break
            while True:
                ch = self.peek(length)
                ends_key = ch == ":" and self.peek(length + 1) in _BLANK + (
                    ",[]{}" if self.flow_level else ""
                )
                if ch in _BLANK or ends_key or (self.flow_level and ch in ",[]{}"):
                    break
                length += 1
            if length == 0:
                break
            self.allow_simple_key = False
            chunks.extend(spaces or [])
            chunks.append(self.prefix(length))
            self.forward(length)
            end_mark = self.get_mark()
            spaces = self.scan_plain_spaces(indent, start_mark)
            if not spaces or self.peek() == "#" or (not self.flow_level and self.column < indent):
                break
        return yaml.ScalarToken("".join(chunks), True, start_mark, end_mark)


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    data = LineMap()
    data.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in data:
            # YAML would silently keep the last one; an editor would never notice.
            raise YamlProblem(line, f"duplicate key '{key}'")
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line
    return data


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    data = LineList()
    data.line = node.start_mark.line + 1
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_lines.append(item.start_mark.line + 1)
    return data


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


class _FastLineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser (about seven times as fast) with the same constructors.

    Content that libyaml does not read goes to `_LineLoader`, which decides and says
    where and why; tests/properties/test_yaml_loaders.py reads every YAML text in the
    repository both ways and finds the same values on the same lines.
    """


_FastLineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_FastLineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
FAST = bool(getattr(yaml, "__with_libyaml__", False))


def _load(text: str) -> Any:
    if FAST:
        try:
            return yaml.load(text, Loader=_FastLineLoader)  # a SafeLoader too
        except yaml.YAMLError:
            pass
    return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects


def parse_yaml(text: str, first_line: int = 1) -> Any:
    """Parse YAML text; line numbers are shifted so the text starts at `first_line`.

    Raises YamlProblem with the line of the first error.
    """
    try:
        value = _load(text)
    except YamlProblem as problem:
        raise YamlProblem(problem.line + first_line - 1, problem.message) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = (mark.line + 1 if mark else 1) + first_line - 1
        raise YamlProblem(line, f"invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise YamlProblem(first_line, f"invalid YAML: {error}") from None
    if first_line != 1:
        _shift_lines(value, first_line - 1)
    return value


def _shift_lines(value: Any, offset: int) -> None:
    if isinstance(value, LineMap):
        value.line += offset
        value.key_lines = {key: line + offset for key, line in value.key_lines.items()}
        for item in value.values():
            _shift_lines(item, offset)
    elif isinstance(value, LineList):
        value.line += offset
        value.item_lines = [line + offset for line in value.item_lines]
        for item in value:
            _shift_lines(item, offset)
