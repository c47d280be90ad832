"""A guide compiled for planning many enrolments: its phases and modules found by id.

`Guide.phase(id)` and `Guide.module(id)` look through tuples, which is right for one
page but is repeated thousands of times by a release pass. `indexed(guide)` returns the
same guide (equal fields, same answers to every question) whose lookups are dictionary
reads, built once; a pass compiles each guide once and plans every enrolment with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from guide.content.model import Checkin, Guide, Module, Phase


@dataclass(frozen=True)
class IndexedGuide(Guide):
    """A `Guide` with its phases, modules and check-ins indexed by id."""

    _phases: dict[str, Phase] = field(default_factory=dict, repr=False, compare=False)
    _modules: dict[str, Module] = field(default_factory=dict, repr=False, compare=False)
    _checkins: dict[str, Checkin] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The first of a repeated id wins, as in Guide's own lookups.
        for name, items in (
            ("_phases", self.phases),
            ("_modules", self.modules),
            ("_checkins", self.checkins),
        ):
            index: dict[str, Any] = {}
            for item in items:
                index.setdefault(item.id, item)
            object.__setattr__(self, name, index)

    def phase(self, phase_id: str) -> Phase:
        try:
            return self._phases[phase_id]
        except KeyError:
            raise self._no_such("phase", phase_id) from None

    def module(self, module_id: str) -> Module:
        try:
            return self._modules[module_id]
        except KeyError:
            raise self._no_such("module", module_id) from None

    def checkin(self, checkin_id: str) -> Checkin:
        try:
            return self._checkins[checkin_id]
        except KeyError:
            raise self._no_such("check-in", checkin_id) from None

    def has_module(self, module_id: str) -> bool:
        return module_id in self._modules

    def has_phase(self, phase_id: str) -> bool:
        return phase_id in self._phases


def indexed(guide: Guide) -> IndexedGuide:
    """Return `guide` with dictionary lookups (itself if it already has them)."""
    if isinstance(guide, IndexedGuide):
        return guide
    own = {f.name: getattr(guide, f.name) for f in fields(Guide)}
    return IndexedGuide(**own)
