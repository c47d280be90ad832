"""Load a content folder into typed objects, reporting every problem with its file and line.

The loader never skips a bad file silently: whatever it cannot read becomes a Problem,
and `load_library` refuses to hand out a library that has errors.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from guide.content.model import (
    ACTIVATION,
    Action,
    Checkin,
    Condition,
    Duration,
    Guide,
    Library,
    LocalFact,
    Module,
    ModuleText,
    Mute,
    Need,
    Option,
    Phase,
    PhaseStart,
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
from guide.content.references import References, answer_id, check_references
from guide.content.yamlsource import LineList, LineMap, YamlProblem, parse_yaml

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the content, printed as `path:line: message`."""

    path: str
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"


class ContentError(Exception):
    """The content folder has errors; `problems` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        listing = "\n".join(str(p) for p in problems[:20])
        super().__init__(f"The content has {len(problems)} error(s):\n{listing}")


@dataclass(frozen=True)
class BodySource:
    """Where a module text's Markdown body starts, for problems found inside it."""

    path: str
    first_line: int


@dataclass
class LoadResult:
    library: Library
    problems: list[Problem]
    bodies: dict[tuple[str, str, str], BodySource] = field(default_factory=dict)
    # (guide, module) -> (path, line) of each rule action that releases it
    releases_by_rule: dict[tuple[str, str], list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


# Fields of each kind of object: name -> required. Declared once, checked everywhere.
GUIDE_FIELDS = {
    "id": True,
    "title": True,
    "summary": True,
    "languages": True,
    "sensitive": False,
    "crisis": False,
    "phases": True,
    "profile": False,
    "checkins": False,
    "code_prefix": False,
}
PHASE_FIELDS = {"id": True, "title": True, "duration": False, "next": False, "at": False}
PHASE_AT_FIELDS = {"after": True, "from": True}
QUESTION_FIELDS = {"id": True, "type": True, "text": True, "options": False, "allow_future": False}
OPTION_FIELDS = {"id": True, "text": True}
CHECKIN_FIELDS = {
    "id": True,
    "title": False,
    "first": True,
    "after": False,
    "from": False,
    "phase": False,
    "every": False,
    "questions": True,
    "rules": False,
}
RULE_FIELDS = {"when": True, "then": True}
ALERT_FIELDS = {"priority": True, "reason": True}
MODULE_FIELDS = {
    "id": True,
    "title": True,
    "summary": True,
    "phase": False,
    "phases": False,
    "release": True,
    "when": False,
    "order": False,
    "needs": False,
    "sources": False,
}
TRANSLATION_FIELDS = {"id": True, "title": True, "summary": True, "needs": False}
RELEASE_FIELDS = {"after": False, "from": False, "on_demand": False}
NEED_FIELDS = {"id": True, "text": True}
LOCAL_FIELDS = {"description": True, "fallback": True}

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DEFAULT_CHECKIN_TITLE = Text.of(sv="Några frågor till dig", en="A few questions for you")
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n?", re.DOTALL)


def load_library(content_dir: Path | str) -> Library:
    """Load a content folder, raising ContentError when it has errors."""
    result = read_library(content_dir)
    if result.errors:
        raise ContentError(result.errors)
    return result.library


def read_library(content_dir: Path | str) -> LoadResult:
    """Read a content folder into a Library and every problem found on the way."""
    root = Path(content_dir)
    problems: list[Problem] = []
    result = LoadResult(Library(MappingProxyType({}), MappingProxyType({})), problems)
    if not root.is_dir():
        problems.append(Problem(str(root), 0, "the content folder does not exist"))
        return result
    local_facts = _read_local_facts(root / "local.yaml", problems)
    guides: dict[str, Guide] = {}
    for guide_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (guide_dir / "guide.yaml").exists():
            problems.append(Problem(str(guide_dir), 0, "a guide folder needs a guide.yaml"))
            continue
        guide = _GuideReader(guide_dir, problems, result).read()
        if guide is not None:
            guides[guide.id] = guide
    result.library = Library(MappingProxyType(guides), MappingProxyType(local_facts))
    problems.sort()
    return result


def _read_local_facts(path: Path, problems: list[Problem]) -> dict[str, LocalFact]:
    if not path.exists():
        return {}
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except YamlProblem as problem:
        problems.append(Problem(str(path), problem.line, problem.message))
        return {}
    if data is None:
        return {}
    if not isinstance(data, LineMap):
        problems.append(Problem(str(path), 1, "local.yaml must map each key to its description"))
        return {}
    facts = {}
    for key, entry in data.items():
        line = data.line_of(key)
        if not isinstance(entry, LineMap):
            problems.append(
                Problem(str(path), line, f"local fact '{key}' needs a description and a fallback")
            )
            continue
        if _check_fields(entry, LOCAL_FIELDS, f"local fact '{key}'", str(path), problems):
            facts[str(key)] = LocalFact(
                str(key), str(entry["description"]).strip(), str(entry["fallback"]).strip()
            )
    return facts


def _check_fields(
    data: LineMap, fields: dict[str, bool], what: str, path: str, problems: list[Problem]
) -> bool:
    """Report unknown and missing fields; return whether every required field is there."""
    complete = True
    for key in data:
        if key not in fields:
            hint = get_close_matches(str(key), list(fields), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            problems.append(
                Problem(path, data.line_of(key), f"unknown field '{key}' in {what}{suggestion}")
            )
    for name, required in fields.items():
        if required and name not in data:
            problems.append(Problem(path, data.line, f"missing field '{name}' in {what}"))
            complete = False
    return complete


class _GuideReader:
    """Reads one guide folder; remembers lines so references can be checked afterwards."""

    def __init__(self, folder: Path, problems: list[Problem], result: LoadResult):
        self.folder = folder
        self.problems = problems
        self.result = result
        self.path = str(folder / "guide.yaml")
        self.languages: tuple[str, ...] = ("sv",)
        self.phase_ids: set[str] = set()
        self.questions: dict[str, Question] = {}
        # References to check once everything is read (guide.content.references).
        self.references = References()

    # -- reporting -----------------------------------------------------------------

    def error(self, line: int, message: str, path: str | None = None) -> None:
        self.problems.append(Problem(path or self.path, line, message))

    # -- guide.yaml ----------------------------------------------------------------

    def read(self) -> Guide | None:
        try:
            data = parse_yaml((self.folder / "guide.yaml").read_text(encoding="utf-8"))
        except YamlProblem as problem:
            self.error(problem.line, problem.message)
            return None
        if not isinstance(data, LineMap):
            self.error(1, "guide.yaml must be a mapping of fields")
            return None
        if not _check_fields(data, GUIDE_FIELDS, "the guide", self.path, self.problems):
            return None
        guide_id = str(data["id"])
        if guide_id != self.folder.name:
            self.error(
                data.line_of("id"),
                f"the guide id '{guide_id}' must match its folder name '{self.folder.name}'",
            )
        self.languages = self._languages(data)
        phases = self._phases(data["phases"], data.line_of("phases"))
        profile = self._questions(data.get("profile") or LineList(), "profile")
        checkins = self._checkins(data.get("checkins") or LineList())
        modules = self._modules(guide_id)
        released_by = check_references(
            self.references, self.path, phases, modules, self.questions, self.error
        )
        for module_id, places in released_by.items():
            self.result.releases_by_rule.setdefault((guide_id, module_id), []).extend(places)
        crisis = self._text(data, "crisis") if "crisis" in data else None
        sensitive = data.get("sensitive", False)
        if not isinstance(sensitive, bool):
            self.error(data.line_of("sensitive"), "'sensitive' must be true or false")
            sensitive = True
        return Guide(
            id=guide_id,
            title=self._text(data, "title"),
            summary=self._text(data, "summary"),
            languages=self.languages,
            phases=tuple(phases),
            modules=tuple(modules),
            profile=tuple(profile),
            checkins=tuple(checkins),
            sensitive=sensitive,
            crisis=crisis,
        )

    def _languages(self, data: LineMap) -> tuple[str, ...]:
        raw = data["languages"]
        if (
            not isinstance(raw, list)
            or not raw
            or not all(isinstance(x, str) and re.fullmatch(r"[a-z]{2}", x) for x in raw)
        ):
            self.error(data.line_of("languages"), "'languages' must be a list like [sv, en]")
            return ("sv",)
        return tuple(raw)

    def _text(self, data: LineMap, key: str, path: str | None = None) -> Text:
        """Read a translatable text: a plain string (first language) or {sv: ..., en: ...}."""
        raw = data.get(key)
        line = data.line_of(key)
        if isinstance(raw, str) and raw.strip():
            return Text(((self.languages[0], raw.strip()),))
        if isinstance(raw, LineMap) and raw:
            values = []
            for language, value in raw.items():
                if language not in self.languages:
                    self.error(
                        raw.line_of(language),
                        f"'{key}' has language '{language}' that the guide does not declare",
                        path,
                    )
                    continue
                if not isinstance(value, str) or not value.strip():
                    self.error(raw.line_of(language), f"'{key}.{language}' must be text", path)
                    continue
                values.append((language, value.strip()))
            if self.languages[0] not in raw:
                self.error(line, f"'{key}' needs a text in '{self.languages[0]}'", path)
            # The fallback language first, so Text.get falls back to it.
            values.sort(key=lambda item: item[0] != self.languages[0])
            return Text(tuple(values))
        self.error(line, f"'{key}' must be a text or a mapping like {{sv: ..., en: ...}}", path)
        return Text(())

    def _id(self, data: LineMap, what: str, path: str | None = None) -> str:
        raw = data.get("id")
        value = "" if raw is None else str(raw)
        if not ID_PATTERN.match(value):
            self.error(
                data.line_of("id"),
                f"the id '{value}' of {what} must use a-z, 0-9, '-' and '_' only",
                path,
            )
        return value

    def _duration(self, data: LineMap, key: str, path: str | None = None) -> Duration | None:
        raw = data.get(key)
        try:
            return Duration.parse(str(raw))
        except ValueError as error:
            self.error(data.line_of(key), f"'{key}': {error}", path)
            return None

    def _list(
        self, raw: Any, line: int, what: str, path: str | None = None
    ) -> list[tuple[int, Any]]:
        if raw is None:
            return []
        if not isinstance(raw, LineList):
            self.error(line, f"{what} must be a list", path)
            return []
        return [(raw.line_of(i), item) for i, item in enumerate(raw)]

    def _unique(
        self, seen: set[str], value: str, line: int, what: str, path: str | None = None
    ) -> bool:
        if value in seen:
            self.error(line, f"duplicate {what} id '{value}'", path)
            return False
        seen.add(value)
        return True

    def _phases(self, raw: Any, line: int) -> list[Phase]:
        phases: list[Phase] = []
        nexts: list[tuple[int, str]] = []
        lines: dict[str, LineMap] = {}
        for item_line, item in self._list(raw, line, "'phases'"):
            if not isinstance(item, LineMap):
                self.error(item_line, "each phase must be a mapping with id and title")
                continue
            if not _check_fields(item, PHASE_FIELDS, "a phase", self.path, self.problems):
                continue
            phase_id = self._id(item, "a phase")
            if not self._unique(self.phase_ids, phase_id, item.line_of("id"), "phase"):
                continue
            duration = self._duration(item, "duration") if "duration" in item else None
            next_phase = str(item["next"]) if "next" in item else None
            if next_phase is not None:
                nexts.append((item.line_of("next"), next_phase))
            at = self._phase_start(item, phase_id) if "at" in item else None
            phase = Phase(phase_id, self._text(item, "title"), duration, next_phase, at)
            phases.append(phase)
            lines[phase_id] = item
        if not phases and raw is not None:
            self.error(line, "a guide needs at least one phase")
        for next_line, next_phase in nexts:
            if next_phase not in self.phase_ids:
                self.error(next_line, f"'next' names unknown phase '{next_phase}'")
        by_id = {phase.id: phase for phase in phases}
        for phase in phases:
            self._check_phase_end(phase, by_id, lines[phase.id])
        return phases

    def _check_phase_end(self, phase: Phase, by_id: dict[str, Phase], item: LineMap) -> None:
        """A phase ends by itself after its duration, or when the next one's `at` comes."""
        following = by_id.get(phase.next) if phase.next is not None else None
        if following is not None and following.at is not None:
            if phase.duration is not None:
                self.error(
                    item.line_of("duration"),
                    f"phase '{phase.id}' ends when phase '{following.id}' starts by its 'at'; "
                    "leave out 'duration'",
                )
        elif ("duration" in item) != ("next" in item):
            self.error(
                item.line,
                f"phase '{phase.id}' needs both 'duration' and 'next' to end by itself "
                "(or a next phase that starts by itself with 'at')",
            )

    def _phase_start(self, item: LineMap, phase_id: str) -> PhaseStart | None:
        raw = item["at"]
        if not isinstance(raw, LineMap):
            self.error(item.line_of("at"), "'at' must be like {after: 0d, from: a date question}")
            return None
        if not _check_fields(
            raw, PHASE_AT_FIELDS, f"'at' of phase '{phase_id}'", self.path, self.problems
        ):
            return None
        after = self._duration(raw, "after")
        source = str(raw["from"])
        if source != ACTIVATION:
            self.references.dates.append((self.path, raw.line_of("from"), source))
        return PhaseStart(after, source) if after is not None else None

    def _questions(self, raw: Any, where: str) -> list[Question]:
        line = raw.line if isinstance(raw, (LineMap, LineList)) else 1
        questions = []
        for item_line, item in self._list(raw, line, f"the questions of {where}"):
            if not isinstance(item, LineMap):
                self.error(item_line, "each question must be a mapping with id, type and text")
                continue
            if not _check_fields(item, QUESTION_FIELDS, "a question", self.path, self.problems):
                continue
            question_id = self._id(item, "a question")
            try:
                kind = QuestionType(str(item["type"]))
            except ValueError:
                allowed = ", ".join(t.value for t in QuestionType)
                self.error(
                    item.line_of("type"),
                    f"question '{question_id}' has unknown type '{item['type']}' "
                    f"(use one of {allowed})",
                )
                continue
            options = self._options(item, question_id, kind)
            allow_future = item.get("allow_future", False)
            if "allow_future" in item and (
                kind is not QuestionType.DATE or not isinstance(allow_future, bool)
            ):
                self.error(
                    item.line_of("allow_future"),
                    f"'allow_future' is true or false, and only for date questions "
                    f"('{question_id}' is {kind.value})",
                )
                allow_future = False
            question = Question(
                question_id, kind, self._text(item, "text"), tuple(options), allow_future
            )
            if question_id in self.questions:
                self.error(item.line_of("id"), f"duplicate question id '{question_id}'")
                continue
            self.questions[question_id] = question
            questions.append(question)
        return questions

    def _options(self, item: LineMap, question_id: str, kind: QuestionType) -> list[Option]:
        has_options = kind in (QuestionType.CHOICE, QuestionType.MULTI)
        if not has_options:
            if "options" in item:
                self.error(
                    item.line_of("options"),
                    f"question '{question_id}' of type {kind.value} cannot have options",
                )
            return []
        if "options" not in item:
            self.error(item.line, f"question '{question_id}' of type {kind.value} needs options")
            return []
        options: list[Option] = []
        seen: set[str] = set()
        for opt_line, raw in self._list(item["options"], item.line_of("options"), "'options'"):
            if not isinstance(raw, LineMap):
                self.error(opt_line, "each option must be a mapping with id and text")
                continue
            if not _check_fields(raw, OPTION_FIELDS, "an option", self.path, self.problems):
                continue
            option_id = answer_id(raw["id"])
            if self._unique(seen, option_id, raw.line_of("id"), f"option of '{question_id}'"):
                options.append(Option(option_id, self._text(raw, "text")))
        return options

    def _checkins(self, raw: Any) -> list[Checkin]:
        line = raw.line if isinstance(raw, LineList) else 1
        checkins: list[Checkin] = []
        seen: set[str] = set()
        for item_line, item in self._list(raw, line, "'checkins'"):
            if not isinstance(item, LineMap):
                self.error(item_line, "each check-in must be a mapping")
                continue
            if not _check_fields(item, CHECKIN_FIELDS, "a check-in", self.path, self.problems):
                continue
            checkin_id = self._id(item, "a check-in")
            if not self._unique(seen, checkin_id, item.line_of("id"), "check-in"):
                continue
            after = str(item.get("after", "activation"))
            phase = str(item["phase"]) if "phase" in item else None
            if after not in ("activation", "phase_start"):
                self.error(item.line_of("after"), "'after' must be activation or phase_start")
                after = "activation"
            if after == "phase_start" and phase is None:
                self.error(
                    item.line, f"check-in '{checkin_id}' with after: phase_start needs 'phase'"
                )
            date_question = str(item["from"]) if "from" in item else None
            if date_question == ACTIVATION:
                date_question = None
            elif date_question is not None:
                if after == "phase_start":
                    self.error(
                        item.line_of("from"),
                        f"check-in '{checkin_id}' counts from its phase's start or from "
                        "a date, not both",
                    )
                else:
                    after = "date"
                self.references.dates.append((self.path, item.line_of("from"), date_question))
            if phase is not None:
                self.references.targets.append((self.path, item.line_of("phase"), f"phase:{phase}"))
            first = self._duration(item, "first")
            every = self._duration(item, "every") if "every" in item else None
            questions = self._questions(item["questions"], f"check-in '{checkin_id}'")
            rules = self._rules(item.get("rules"), item.line_of("rules"))
            title = self._text(item, "title") if "title" in item else DEFAULT_CHECKIN_TITLE
            if first is None:
                continue
            checkins.append(
                Checkin(
                    id=checkin_id,
                    title=title,
                    first=first,
                    questions=tuple(questions),
                    rules=tuple(rules),
                    after=after,  # type: ignore[arg-type]
                    phase=phase,
                    every=every,
                    date_question=date_question,
                )
            )
        return checkins

    def _rules(self, raw: Any, line: int) -> list[Rule]:
        rules = []
        for item_line, item in self._list(raw, line, "'rules'"):
            if not isinstance(item, LineMap):
                self.error(item_line, "each rule must be a mapping with when and then")
                continue
            if not _check_fields(item, RULE_FIELDS, "a rule", self.path, self.problems):
                continue
            self.references.conditions.append(
                (self.path, item.line_of("when"), item["when"], "rule")
            )
            actions = []
            for action_line, raw_action in self._list(item["then"], item.line_of("then"), "'then'"):
                action = self._action(raw_action, action_line)
                if action is not None:
                    actions.append(action)
            rules.append(Rule(_when(item["when"]), tuple(actions)))
        return rules

    def _action(self, raw: Any, line: int) -> Action | None:
        if not isinstance(raw, LineMap) or len(raw) != 1:
            self.error(line, "an action is one of release, set_phase, alert, mute, crisis")
            return None
        ((name, value),) = raw.items()
        if name == "release":
            self.references.modules.append((self.path, line, str(value)))
            return ReleaseModule(str(value))
        if name == "set_phase":
            self.references.targets.append((self.path, line, f"phase:{value}"))
            return SetPhase(str(value))
        if name == "mute":
            self.references.targets.append((self.path, line, f"any:{value}"))
            return Mute(str(value))
        if name == "crisis":
            if value is not True:
                self.error(line, "write the crisis action as {crisis: true}")
            return ShowCrisis()
        if name == "alert":
            if not isinstance(value, LineMap) or not _check_fields(
                value, ALERT_FIELDS, "an alert", self.path, self.problems
            ):
                if not isinstance(value, LineMap):
                    self.error(line, "an alert needs a priority and a reason")
                return None
            priority = str(value["priority"])
            if priority not in ("normal", "urgent"):
                self.error(value.line_of("priority"), "an alert's priority is normal or urgent")
                return None
            return RaiseAlert(priority, self._text(value, "reason"))  # type: ignore[arg-type]
        self.error(line, f"unknown action '{name}' (use release, set_phase, alert, mute or crisis)")
        return None

    # -- modules -------------------------------------------------------------------

    def _modules(self, guide_id: str) -> list[Module]:
        folder = self.folder / "modules"
        if not folder.is_dir():
            self.error(1, "the guide has no modules folder")
            return []
        originals: dict[str, tuple[LineMap, ModuleText, str]] = {}
        translations: dict[str, list[tuple[str, LineMap, ModuleText, str]]] = {}
        for path in sorted(folder.glob("*.md")):
            parts = path.name[: -len(".md")].split(".")
            if len(parts) == 2:
                language = parts[1]
                read = self._module_file(path, TRANSLATION_FIELDS, language)
                if read is not None:
                    translations.setdefault(parts[0], []).append((language, *read))
                continue
            read = self._module_file(path, MODULE_FIELDS, self.languages[0])
            if read is None:
                continue
            data, text, raw = read
            module_id = self._id(data, "a module", str(path))
            if module_id != parts[0]:
                self.error(
                    data.line_of("id"),
                    f"the module id '{module_id}' must match the file name '{path.name}'",
                    str(path),
                )
                continue
            originals[module_id] = (data, text, raw)

        modules = []
        for module_id, (data, text, raw) in originals.items():
            module_path = str(folder / f"{module_id}.md")
            texts = {self.languages[0]: text}
            raws = [raw]
            for language, tdata, ttext, traw in translations.pop(module_id, []):
                tpath = str(folder / f"{module_id}.{language}.md")
                if language not in self.languages:
                    self.error(
                        1, f"translation into '{language}', which the guide does not declare", tpath
                    )
                    continue
                if str(tdata.get("id")) != module_id:
                    self.error(
                        tdata.line_of("id"), f"the translation's id must be '{module_id}'", tpath
                    )
                texts[language] = ttext
                raws.append(traw)
            module = self._module(guide_id, data, texts, module_path)
            if module is None:
                continue
            digest = hashlib.sha256("\x00".join(raws).encode("utf-8")).hexdigest()
            modules.append(_with_hash(module, digest))
        for module_id, items in translations.items():
            for language, tdata, _, _ in items:
                self.error(
                    tdata.line_of("id"),
                    f"translation without its original: there is no {module_id}.md",
                    str(folder / f"{module_id}.{language}.md"),
                )
        modules.sort(key=lambda m: (m.order, m.id))
        return modules

    def _module_file(
        self, path: Path, fields: dict[str, bool], language: str
    ) -> tuple[LineMap, ModuleText, str] | None:
        raw = path.read_text(encoding="utf-8")
        match = FRONT_MATTER.match(raw)
        if not match:
            self.error(1, "a module starts with front matter between two '---' lines", str(path))
            return None
        try:
            data = parse_yaml(match.group(1), first_line=2)
        except YamlProblem as problem:
            self.error(problem.line, problem.message, str(path))
            return None
        if not isinstance(data, LineMap):
            self.error(2, "the front matter must be a mapping of fields", str(path))
            return None
        what = "the translation" if fields is TRANSLATION_FIELDS else "the module"
        if not _check_fields(data, fields, what, str(path), self.problems):
            return None
        body = raw[match.end() :]
        body_line = match.group(0).count("\n") + 1
        self.result.bodies[(self.folder.name, path.name.split(".")[0], language)] = BodySource(
            str(path), body_line
        )
        needs = {}
        for need_line, need in self._list(
            data.get("needs"), data.line_of("needs"), "'needs'", str(path)
        ):
            if isinstance(need, LineMap) and "id" in need and isinstance(need.get("text"), str):
                needs[str(need["id"])] = need["text"].strip()
            else:
                self.error(need_line, "each need is a mapping with id and text", str(path))
        title, summary = data["title"], data["summary"]
        for key in ("title", "summary"):
            if not isinstance(data[key], str) or not data[key].strip():
                self.error(data.line_of(key), f"'{key}' must be text", str(path))
        text = ModuleText(
            language=language,
            title=str(title).strip(),
            summary=str(summary).strip(),
            body=body.strip() + "\n",
            needs=MappingProxyType(needs),
        )
        return data, text, raw

    def _module(
        self, guide_id: str, data: LineMap, texts: dict[str, ModuleText], path: str
    ) -> Module | None:
        if ("phase" in data) == ("phases" in data):
            self.error(data.line, "a module needs either 'phase' or 'phases'", path)
            return None
        phases: tuple[str, ...]
        if "phase" in data:
            phases = (str(data["phase"]),)
            phase_line = data.line_of("phase")
        else:
            raw = data["phases"]
            phase_line = data.line_of("phases")
            if not isinstance(raw, list) or not raw:
                self.error(phase_line, "'phases' must be a non-empty list", path)
                return None
            phases = tuple(str(p) for p in raw)
        for phase in phases:
            if phase not in self.phase_ids:
                self.error(phase_line, f"the module names unknown phase '{phase}'", path)
        release = self._release(data, path)
        if release is None:
            return None
        order = data.get("order", 0)
        if not isinstance(order, int):
            self.error(data.line_of("order"), "'order' must be a whole number", path)
            order = 0
        if "when" in data:
            self.references.conditions.append((path, data.line_of("when"), data["when"], "module"))
        needs = []
        seen: set[str] = set()
        for need_id in texts[self.languages[0]].needs:
            if self._unique(seen, need_id, data.line_of("needs"), "need", path):
                other = {lang: t.needs[need_id] for lang, t in texts.items() if need_id in t.needs}
                needs.append(Need(need_id, Text(tuple(other.items()))))
        for language, text in texts.items():
            for need_id in text.needs:
                if need_id not in seen:
                    self.error(
                        1,
                        f"the translation names need '{need_id}' that the original lacks",
                        path.replace(".md", f".{language}.md"),
                    )
        sources = data.get("sources") or []
        if not isinstance(sources, list):
            self.error(data.line_of("sources"), "'sources' must be a list of texts", path)
            sources = []
        return Module(
            id=str(data["id"]),
            guide=guide_id,
            phases=phases,
            release=release,
            texts=MappingProxyType(texts),
            when=_when(data.get("when")),
            order=order,
            needs=tuple(needs),
            sources=tuple(str(s) for s in sources),
            path=path,
        )

    def _release(self, data: LineMap, path: str) -> ReleaseSpec | None:
        raw = data["release"]
        line = data.line_of("release")
        if not isinstance(raw, LineMap) or not raw:
            self.error(line, "'release' must be like {after: 7d} or {on_demand: true}", path)
            return None
        _check_fields(raw, RELEASE_FIELDS, "'release'", path, self.problems)
        if raw.get("on_demand") is True:
            if "after" in raw:
                self.error(line, "a module released on demand cannot also have 'after'", path)
            return ReleaseSpec(after=None, on_demand=True)
        if "after" not in raw:
            self.error(line, "'release' needs 'after' (or on_demand: true)", path)
            return None
        after = self._duration(raw, "after", path)
        anchor = str(raw.get("from", "phase"))
        date_question = None
        if anchor not in ("phase", ACTIVATION):
            # Any other word names a date question; check_references checks that it is one.
            self.references.dates.append((path, raw.line_of("from"), anchor))
            anchor, date_question = "date", anchor
        if after is None:
            return None
        return ReleaseSpec(after=after, anchor=anchor, date_question=date_question)  # type: ignore[arg-type]


def _when(raw: Any) -> When:
    """Build a When from a raw mapping; its problems are reported by _check_when."""
    if not isinstance(raw, dict):
        return When()
    conditions = []
    for question_id, expected in raw.items():
        if isinstance(expected, dict):
            conditions.append(
                Condition(str(question_id), lte=expected.get("lte"), gte=expected.get("gte"))
            )
        else:
            values = expected if isinstance(expected, list) else [expected]
            conditions.append(Condition(str(question_id), tuple(answer_id(v) for v in values)))
    return When(tuple(conditions))


def _with_hash(module: Module, digest: str) -> Module:
    return replace(module, content_hash=digest)
