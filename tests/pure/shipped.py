"""The shipped content library, read once for every pure test that looks at it."""

from __future__ import annotations

from functools import cache

from guide.content.loader import load_library
from guide.content.model import Library
from tests.conftest import SHIPPED_CONTENT


@cache
def shipped_library() -> Library:
    """The library under content/ (immutable, so the tests can share it)."""
    return load_library(SHIPPED_CONTENT)
