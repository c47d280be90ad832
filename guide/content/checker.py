"""Check a content folder as a whole: placeholders, links, reachability and readability."""

from __future__ import annotations

import re
from pathlib import Path

from guide.content.loader import LoadResult, Problem, read_library
from guide.content.model import Guide, Module
from guide.content.readability import lix

PLACEHOLDER = re.compile(r"\{\{\s*local\.([A-Za-z0-9_.-]+?)\s*\}\}")
ANY_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
LIX_WARNING = 50


def check_content(content_dir: Path | str, lix_limit: float = LIX_WARNING) -> list[Problem]:
    """Return every problem in a content folder, errors and warnings, sorted by place."""
    return check_loaded(read_library(content_dir), lix_limit)


def check_loaded(result: LoadResult, lix_limit: float = LIX_WARNING) -> list[Problem]:
    """Return every problem of an already read content folder, errors and warnings."""
    problems = list(result.problems)
    for guide in result.library.guides.values():
        for module in guide.modules:
            problems.extend(_check_module(result, guide, module, lix_limit))
    return sorted(set(problems))


def _check_module(
    result: LoadResult, guide: Guide, module: Module, lix_limit: float
) -> list[Problem]:
    problems = []
    if module.release.on_demand and (guide.id, module.id) not in result.releases_by_rule:
        problems.append(
            Problem(
                module.path,
                1,
                f"module '{module.id}' can never be released: it is on_demand and no rule releases it",
            )
        )
    module_ids = {m.id for m in guide.modules}
    for language, text in module.texts.items():
        source = result.bodies.get((guide.id, module.id, language))
        if source is None:
            continue
        for offset, line in enumerate(text.body.splitlines()):
            line_no = (
                source.first_line + _leading_blank_lines(source.path, source.first_line) + offset
            )
            problems.extend(_check_line(result, source.path, line_no, line, module_ids))
        score = lix(text.body)
        if score > lix_limit:
            problems.append(
                Problem(
                    source.path,
                    source.first_line,
                    f"LIX {score:.0f} is above {lix_limit:g}: use shorter sentences and words",
                    "warning",
                )
            )
    return problems


def _check_line(
    result: LoadResult, path: str, line_no: int, line: str, module_ids: set[str]
) -> list[Problem]:
    problems = []
    for match in ANY_PLACEHOLDER.finditer(line):
        inner = PLACEHOLDER.fullmatch(match.group(0))
        if inner is None:
            problems.append(
                Problem(
                    path,
                    line_no,
                    f"'{match.group(0)}' is not a placeholder like {{{{ local.key }}}}",
                )
            )
        elif inner.group(1) not in result.library.local_facts:
            problems.append(
                Problem(
                    path,
                    line_no,
                    f"undeclared local fact '{inner.group(1)}' (declare it in local.yaml)",
                )
            )
    for match in LINK.finditer(line):
        target = match.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        name = target.split("#", 1)[0]
        if not name.endswith(".md") or name[: -len(".md")] not in module_ids:
            problems.append(
                Problem(path, line_no, f"broken link '{target}': no such module in this guide")
            )
    return problems


_blank_cache: dict[tuple[str, int], int] = {}


def _leading_blank_lines(path: str, first_line: int) -> int:
    """Count blank lines between the front matter and the body text (the body is stripped)."""
    key = (path, first_line)
    if key not in _blank_cache:
        lines = Path(path).read_text(encoding="utf-8").splitlines()[first_line - 1 :]
        count = 0
        for line in lines:
            if line.strip():
                break
            count += 1
        _blank_cache[key] = count
    return _blank_cache[key]
