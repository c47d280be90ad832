"""The `guide` command line (SPEC §11): each command parses, calls a service and prints.

Commands live by concept (content, accounts, cards, serve, scheduler, demo); they
may import anything below them, and nothing imports them but guide.app.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from guide import create_app
from guide.cli import accounts, cards, content, scheduler, serve
from guide.config import ConfigError
from guide.urls import BaseUrlError

COMMANDS = (
    content.content,
    serve.serve,
    accounts.org,
    accounts.unit,
    accounts.staff,
    cards.cards,
    scheduler.scheduler,
)


def register_commands(app: Flask) -> None:
    """Make every command reachable as `flask --app guide ...` too."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:

    try:
        return create_app()
    except (ConfigError, BaseUrlError) as error:
        # A setting an operator can fix: say which and why, not a traceback.
        raise click.ClickException(str(error)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Lots: personalised guidance for relatives, released at the right time."""


for _command in COMMANDS:
    main.add_command(_command)
