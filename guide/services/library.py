"""The loaded content library of a running app, and the published versions of its modules."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from guide.content.loader import load_library
from guide.content.model import Guide, Library


def init_library(app: Flask) -> None:
    """Load the content folder once; a broken library stops the app from starting."""
    app.extensions["guide_library"] = load_library(Path(app.config["GUIDE_CONTENT_DIR"]))


def current_library() -> Library:
    library: Library = current_app.extensions["guide_library"]
    return library


def get_guide(guide_id: str) -> Guide:
    return current_library().guide(guide_id)
