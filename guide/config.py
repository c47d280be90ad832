"""Configuration read from the environment (SPEC §11), with safe embedded defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from guide.content.model import Duration

PACKAGE_ROOT = Path(__file__).resolve().parent
# Installed, `content/` sits beside `guide/` in site-packages; in a checkout, beside it too.
DEFAULT_CONTENT_DIR = PACKAGE_ROOT.parent / "content"
DEFAULT_BASE_URL = "http://localhost:5000"  # where `guide serve` listens by default


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


def _number(name: str, default: int | float, minimum: float = 0) -> Any:
    """Read a number from the environment; a wrong one stops the start with a reason."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = type(default)(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number, not '{raw}'.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {raw}.")
    return value


def _argon2_params() -> dict[str, int] | None:
    params = {
        key: _number(name, 0, minimum=1)
        for key, name in (
            ("time_cost", "GUIDE_ARGON2_TIME_COST"),
            ("memory_cost", "GUIDE_ARGON2_MEMORY_KIB"),
            ("parallelism", "GUIDE_ARGON2_PARALLELISM"),
        )
        if os.environ.get(name)
    }
    return params or None


def _duration(name: str, default: str) -> str:
    """Read a duration like 7d, 2w or 4h; a wrong one stops the start with a reason."""
    raw = (os.environ.get(name) or default).strip()
    try:
        Duration.parse(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a duration like 7d, 2w or 4h, not '{raw}'.") from None
    return raw


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot run with."""


def config_from_environment(instance_path: str) -> dict[str, Any]:
    """Return the Flask configuration for this process, read from the environment."""
    database_url = os.environ.get("GUIDE_DATABASE_URL")
    if not database_url:
        Path(instance_path).mkdir(parents=True, exist_ok=True)  # SQLite creates no folders
        database_url = f"sqlite:///{Path(instance_path) / 'guide.sqlite3'}"
    if database_url.startswith("postgresql://"):
        # SQLAlchemy's default PostgreSQL driver is psycopg2; we ship psycopg 3.
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    secret_key = os.environ.get("GUIDE_SECRET_KEY") or _instance_secret(instance_path)
    base_url = os.environ.get("GUIDE_BASE_URL", DEFAULT_BASE_URL).rstrip("/")
    mail_server = os.environ.get("MAIL_SERVER") or None
    return {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "GUIDE_BASE_URL": base_url,
        "GUIDE_TIMEZONE": os.environ.get("GUIDE_TIMEZONE", "Europe/Stockholm"),
        "GUIDE_CONTENT_DIR": os.environ.get("GUIDE_CONTENT_DIR") or str(DEFAULT_CONTENT_DIR),
        "GUIDE_RUN_SCHEDULER": _flag("GUIDE_RUN_SCHEDULER", True),
        "GUIDE_CAPTURE_MAIL": mail_server is None,
        "MAIL_SERVER": mail_server or "localhost",
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Lots <no-reply@localhost>"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 8,
        "STAFF_SESSION_IDLE_MINUTES": _number("GUIDE_STAFF_IDLE_MINUTES", 30),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("GUIDE_TIMEZONE", "Europe/Stockholm"),
        "RATELIMIT_STORAGE_URI": os.environ.get("GUIDE_RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Off only where a proxy in front already limits (or for a benchmark's run).
        "RATELIMIT_ENABLED": _flag("GUIDE_RATELIMIT_ENABLED", True),
        "GUIDE_LOGIN_LINK_MINUTES": 30,
        "GUIDE_STAFF_TOKEN_DAYS": _number("GUIDE_STAFF_TOKEN_DAYS", 90, minimum=1),
        # Request bodies: generous for forms, small for the JSON API.
        "MAX_CONTENT_LENGTH": _number("GUIDE_MAX_FORM_BYTES", 1024 * 1024, minimum=1024),
        "GUIDE_MAX_JSON_BYTES": _number("GUIDE_MAX_JSON_BYTES", 64 * 1024, minimum=1024),
        # `guide serve --demo` turns this on; a demo run under gunicorn sets GUIDE_DEMO=1.
        "GUIDE_DEMO": _flag("GUIDE_DEMO", False),
        "GUIDE_SCHEDULER_INTERVAL": _number("GUIDE_SCHEDULER_INTERVAL", 30, minimum=1),
        # Unused accounts are warned after this many days, and erased 30 days later.
        "GUIDE_RETENTION_DAYS": _number("GUIDE_RETENTION_DAYS", 365, minimum=31),
        "GUIDE_SMTP_TIMEOUT": _number("GUIDE_SMTP_TIMEOUT", 30.0, minimum=0.1),
        # How many proxies in front of the service to believe about client and scheme.
        "GUIDE_PROXY_HOPS": _number("GUIDE_PROXY_HOPS", 0),
        # Targets for staff's first contact: a contact request (and a normal alert), and
        # an urgent alert ("0d": the same working day). Follow-up calls carry their own.
        "GUIDE_CONTACT_TARGET": _duration("GUIDE_CONTACT_TARGET", "7d"),
        "GUIDE_URGENT_TARGET": _duration("GUIDE_URGENT_TARGET", "0d"),
        # Argon2id's cost for staff passwords; the defaults are argon2-cffi's (RFC 9106).
        "ARGON2_PARAMS": _argon2_params(),
    }


def _instance_secret(instance_path: str) -> str:
    """Keep a generated secret key in the instance folder so sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
