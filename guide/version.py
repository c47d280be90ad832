"""Which release of the code is running: the package version and a digest of its source.

A message that could not be rendered failed because of a fault in the code (or in the
content it renders), not because of the mail server; trying it again is worth while
only once different code runs. The digest changes with any change to the code or the
templates, so a fix installed with the same version number still counts as new.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGES = ("guide", "scheduler", "activation_codes")
SOURCE_SUFFIXES = (".py", ".html", ".txt", ".mo")


@cache
def code_release() -> str:
    """Return an identifier of the running code, e.g. `0.1.0+3f2a9c1d0b7e`."""
    try:
        version = metadata.version("lots-guide")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "0"
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return f"{version}+{digest.hexdigest()[:12]}"
