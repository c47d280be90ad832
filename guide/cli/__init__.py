"""The `guide` command line (SPEC §11): each command parses, calls a service and prints.

Commands live by concept (content, accounts, cards, serve, scheduler, demo); they
may import anything below them. guide.app registers them with the app (for
`flask --app guide`); the `guide` script itself is guide.__main__, which builds the
app and so stands above everything.
"""

from __future__ import annotations

from flask import Flask

from guide.cli import accounts, cards, content, database, scheduler, serve, translations

COMMANDS = (
    content.content,
    database.database,
    serve.serve,
    accounts.org,
    accounts.unit,
    accounts.staff,
    cards.cards,
    scheduler.scheduler,
    translations.translations,
)


def register_commands(app: Flask) -> None:
    """Make every command reachable as `flask --app guide ...` too."""
    for command in COMMANDS:
        app.cli.add_command(command)
