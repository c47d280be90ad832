"""Lots: the Flask application that wires content, scheduler and activation codes together."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    """Build the application from the environment, exactly as every deployment does.

    There is deliberately no way to hand in configuration here: tests set the same
    environment variables a deployment sets, so they run what people run.
    """
    import os

    from guide import background_mail, errors, security, urls
    from guide.cli import register_commands
    from guide.config import PACKAGE_ROOT, config_from_environment
    from guide.content.library import init_library
    from guide.extensions import babel, csrf, db, limiter, mail, migrate, select_locale

    # GUIDE_INSTANCE_DIR moves the instance folder (SQLite, secret key, demo card sheets).
    instance = os.environ.get("GUIDE_INSTANCE_DIR") or None
    app = urls.GuideFlask(__name__, instance_path=instance, instance_relative_config=True)
    app.config.from_mapping(config_from_environment(app.instance_path))
    urls.init_app(app)
    # Before any route exists: every <int:...> in a URL fits the database's integers.
    app.url_map.converters["int"] = security.DatabaseIdConverter

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PACKAGE_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    mail.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    init_library(app)
    security.init_app(app)
    errors.init_app(app)
    background_mail.init_app(app)

    from guide import models  # noqa: F401 - register every table with the metadata
    from guide.api import api
    from guide.auth import load_logged_in
    from guide.web import admin_mail, checkins, followup, helpers, inbox, public, relative, staff

    helpers.init_app(app)
    app.before_request(load_logged_in)
    app.register_blueprint(public.bp)
    app.register_blueprint(relative.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(checkins.bp)
    app.register_blueprint(followup.bp)
    app.register_blueprint(admin_mail.bp)
    app.register_blueprint(api)
    register_commands(app)
    csrf.exempt(api)  # the API authenticates with bearer tokens, never with cookies
    csrf.exempt(public.unsubscribe)  # one-click unsubscribe comes from the mail client (RFC 8058)
    return app
