"""Lots: the Flask application that wires content, scheduler and activation codes together.

The package is split in rooms, each with a docstring that says what lives there and
what it may import:

- `guide.content` — the pure content library (no Flask, no database);
- `guide.models` — the tables;
- `guide.services` — the product's operations, each taking a session and `now`;
- `guide.mail` — the outbox, from queueing to SMTP;
- `guide.web`, `guide.api` — pages and the JSON API: requests in, service calls, pages or JSON out;
- `guide.cli` — the `guide` command: parses and prints;
- `guide.app` — `create_app()`, which wires them together.

Importing this package imports nothing else, so the pure rooms stay pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app() -> Flask:
    """Build the application (see guide.app); `gunicorn 'guide:create_app()'` calls this."""
    from guide.app import create_app as build  # noqa: PLC0415 - keeps `import guide` light

    return build()
