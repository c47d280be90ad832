"""A content folder with some module files replaced: how an editor's change is checked and loaded.

The checker and the loader read folders, and an editor's draft must meet exactly the
checks `guide content check` makes. So a change is written into a scratch copy of its
guide's folder (with the library's local.yaml) and that copy is read and checked as a
whole; its problems are then told in the words of the one file the editor sees.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from guide.content.checker import check_loaded
from guide.content.loader import FRONT_MATTER, LoadResult, Problem, read_library
from guide.content.model import Guide
from guide.content.readability import lix

# module id -> its files as they should be (file name -> text); None: the module is gone.
Overrides = Mapping[str, Mapping[str, str] | None]

_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:")
_QUOTED_FIELD = re.compile(r"field '([a-z_]+)'")


@dataclass(frozen=True)
class FileProblem:
    """A problem as an editor sees it: the line and field of the file, or another file's name."""

    line: int
    field: str
    message: str
    severity: str
    file: str  # modules/<name>.md, or guide.yaml

    def as_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "severity": self.severity,
            "file": self.file,
        }


@dataclass(frozen=True)
class CheckedGuide:
    guide: Guide | None  # None when the changed folder does not load
    problems: tuple[FileProblem, ...]

    @property
    def errors(self) -> tuple[FileProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


def module_filename(module_id: str, language: str, original_language: str) -> str:
    """Return the file name of a module's text in `language` (the original has none)."""
    return f"{module_id}.md" if language == original_language else f"{module_id}.{language}.md"


def module_files(guide_dir: Path, module_id: str) -> dict[str, str]:
    """Read a module's files (original and translations) from a guide folder."""
    folder = guide_dir / "modules"
    names = [folder / f"{module_id}.md", *sorted(folder.glob(f"{module_id}.*.md"))]
    return {path.name: path.read_text(encoding="utf-8") for path in names if path.exists()}


def write_overrides(guide_dir: Path, overrides: Overrides) -> None:
    """Replace the files of each overridden module in a guide folder."""
    folder = guide_dir / "modules"
    folder.mkdir(parents=True, exist_ok=True)
    for module_id, files in overrides.items():
        for old in [folder / f"{module_id}.md", *folder.glob(f"{module_id}.*.md")]:
            old.unlink(missing_ok=True)
        for name, text in (files or {}).items():
            (folder / name).write_text(text, encoding="utf-8")


def check_guide(
    content_dir: Path,
    guide_id: str,
    overrides: Overrides,
    *,
    focus: str | None = None,
    lix_limit: float = 50.0,
) -> CheckedGuide:
    """Check one guide of `content_dir` with `overrides` applied; never touches `content_dir`.

    Every error of the guide is reported (the live guide has none, so each comes from
    the change); warnings only for the `focus` file, the one being edited.
    """
    scratch = Path(tempfile.mkdtemp(prefix="lots-draft-"))
    try:
        if (content_dir / "local.yaml").exists():
            shutil.copy(content_dir / "local.yaml", scratch / "local.yaml")
        if (content_dir / guide_id).is_dir():
            shutil.copytree(content_dir / guide_id, scratch / guide_id)
        write_overrides(scratch / guide_id, overrides)
        result = read_library(scratch)
        raw = check_loaded(result, lix_limit)
        guide = result.library.guides.get(guide_id) if not result.errors else None
        problems = tuple(_for_editor(p, scratch, guide_id, focus) for p in raw)
        kept = tuple(
            p
            for p in problems
            if p.severity == "error" or focus is None or p.file == f"modules/{focus}"
        )
        return CheckedGuide(guide, kept)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def read_guides(content_dir: Path, overrides: Mapping[str, Overrides]) -> LoadResult:
    """Read the guides named in `overrides` (guide id -> module overrides) with them applied."""
    scratch = Path(tempfile.mkdtemp(prefix="lots-live-"))
    try:
        if (content_dir / "local.yaml").exists():
            shutil.copy(content_dir / "local.yaml", scratch / "local.yaml")
        for guide_id, modules in overrides.items():
            if (content_dir / guide_id).is_dir():
                shutil.copytree(content_dir / guide_id, scratch / guide_id)
            write_overrides(scratch / guide_id, modules)
        return read_library(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _for_editor(problem: Problem, scratch: Path, guide_id: str, focus: str | None) -> FileProblem:
    path = Path(problem.path)
    try:
        relative = str(path.relative_to(scratch / guide_id))
    except ValueError:
        relative = path.name
    return FileProblem(problem.line, "", problem.message, problem.severity, relative)


def with_fields(problems: tuple[FileProblem, ...], source: str) -> tuple[FileProblem, ...]:
    """Name the field of each problem of `source` by its line: a front-matter key, or body."""
    keys = field_lines(source)
    body_from = front_matter_end(source)
    named = []
    for problem in problems:
        quoted = _QUOTED_FIELD.search(problem.message)
        if quoted:
            field = quoted.group(1)
        elif body_from and problem.line >= body_from:
            field = "body"
        else:
            field = next((key for line, key in reversed(keys) if line <= problem.line), "")
        named.append(
            FileProblem(problem.line, field, problem.message, problem.severity, problem.file)
        )
    return tuple(named)


def field_lines(source: str) -> list[tuple[int, str]]:
    """Return (line, key) of each top-level front-matter key, in order."""
    end = front_matter_end(source) or 0
    keys = []
    for number, line in enumerate(source.splitlines(), start=1):
        if end and number >= end:
            break
        match = _TOP_KEY.match(line)
        if match and number > 1:
            keys.append((number, match.group(1)))
    return keys


def front_matter_end(source: str) -> int | None:
    """Return the first line of the body, or None when there is no front matter."""
    match = FRONT_MATTER.match(source)
    return match.group(0).count("\n") + 1 if match else None


def body_of(source: str) -> str:
    match = FRONT_MATTER.match(source)
    return source[match.end() :] if match else source


def body_lix(source: str) -> float:
    """Return the LIX of a module file's body."""
    return lix(body_of(source))
