"""Build the Flask application: configuration from the environment, extensions, blueprints."""

from __future__ import annotations

import os

from flask import Flask, g, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from guide import models, security, urls
from guide.api import api
from guide.api import errors as api_errors
from guide.cli import register_commands
from guide.config import config_from_environment
from guide.errors import GuideError
from guide.extensions import (
    babel,
    csrf,
    db,
    install_template_gettext,
    limiter,
    mail,
    select_locale,
)
from guide.mail import background as background_mail
from guide.services.library import init_library
from guide.web import (
    admin,
    audit,
    cards,
    checkins,
    contact,
    editor,
    followup,
    helpers,
    inbox,
    journey,
    language,
    local_facts,
    mail_problems,
    needs,
    profile,
    public,
    settings,
    staff,
    stats,
)
from guide.web import errors as page_errors
from guide.web.sessions import load_logged_in

# Importing the models registers every table with the metadata (migrations compare them).
MODELS = models

PAGES = (
    *(public, journey, checkins, profile, needs, contact, settings, staff, cards, followup),
    *(mail_problems, audit, inbox, admin, local_facts, stats, language, editor),
)


def create_app() -> Flask:
    """Build the application from the environment, exactly as every deployment does.

    There is deliberately no way to hand in configuration here: tests set the same
    environment variables a deployment sets, so they run what people run.
    """
    # GUIDE_INSTANCE_DIR moves the instance folder (SQLite, secret key, demo card sheets).
    instance = os.environ.get("GUIDE_INSTANCE_DIR") or None
    app = urls.GuideFlask("guide", instance_path=instance, instance_relative_config=True)
    app.config.from_mapping(config_from_environment(app.instance_path))
    urls.init_app(app)
    # Before any route exists: every <int:...> in a URL fits the database's integers.
    app.url_map.converters["int"] = security.DatabaseIdConverter

    db.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    limiter.init_app(app)
    init_library(app)
    security.init_app(app)
    _handle_errors(app)
    background_mail.init_app(app)

    helpers.init_app(app)
    app.before_request(load_logged_in)
    for page in PAGES:
        app.register_blueprint(page.bp)
    app.register_blueprint(api)
    register_commands(app)
    csrf.exempt(api)  # the API authenticates with bearer tokens, never with cookies
    csrf.exempt(public.unsubscribe)  # one-click unsubscribe comes from the mail client (RFC 8058)
    return app


def _handle_errors(app: Flask) -> None:
    """One handler per surface: pages for people, JSON under /api/ (also for unrouted URLs)."""

    def http_error(error: HTTPException) -> ResponseReturnValue:
        if error.code and error.code >= 500:
            db.session.rollback()
        # A 500 names its request, so support can find the traceback in the log.
        request_id = g.get("request_id") if (error.code or 500) >= 500 else None
        if request.path.startswith("/api/"):
            return api_errors.answer_http_error(error, request_id)
        return page_errors.page_for_http_error(error, request_id)

    def unexpected(error: Exception) -> ResponseReturnValue:
        if isinstance(error, HTTPException):  # Flask sends these here when nothing closer matches
            return http_error(error)
        db.session.rollback()
        app.logger.error(
            "Unhandled error in %s %s (request %s)",
            request.method,
            request.path,
            g.get("request_id", "-"),
            exc_info=error,
        )
        return http_error(InternalServerError(original_exception=error))

    app.register_error_handler(GuideError, page_errors.page_for_domain_error)  # API: its own
    app.register_error_handler(CSRFError, page_errors.page_for_csrf_error)
    app.register_error_handler(HTTPException, http_error)
    # Also when testing: a test sees what a person sees, and the traceback is in the log.
    app.register_error_handler(Exception, unexpected)
