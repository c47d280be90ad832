"""Public pages: the start page, activation and login for relatives."""

from __future__ import annotations

from flask import Blueprint, render_template

from guide.content.library import current_library

bp = Blueprint("public", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("public/index.html", guides=current_library().guides.values())
