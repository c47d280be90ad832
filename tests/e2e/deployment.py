"""The product as people run it: installed `guide` commands, environment only, real SMTP and HTTP.

A `Deployment` is a folder, a database and an SMTP server on loopback. Its commands
run as subprocesses of the installed `guide` script with nothing but environment
variables, exactly as an operator's shell, a systemd unit or a container would run
them; `Browser` is a person with cookies following links and submitting forms.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.smtp_sink import Received, SmtpSink

GUIDE = Path(sys.executable).with_name("guide")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
LINK = re.compile(r"https?://[^\s<>\"']+")
CODE = re.compile(r"[A-Z]{3}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class CommandFailed(AssertionError):
    """A `guide` command exited non-zero: its output says why."""


@dataclass
class Deployment:
    """One installation of Lots: its environment, its database and its mail server."""

    root: Path
    database_url: str
    sink: SmtpSink
    environment: dict[str, str] = field(default_factory=dict)
    base_url: str = ""

    def __post_init__(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("GUIDE_", "MAIL_", "FLASK_"))
        }
        self.environment = {
            **inherited,
            "GUIDE_DATABASE_URL": self.database_url,
            "GUIDE_SECRET_KEY": "e2e-secret-0123456789abcdefghij",
            "GUIDE_BASE_URL": self.base_url,
            "GUIDE_RUN_SCHEDULER": "0",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.sink.port),
            "MAIL_DEFAULT_SENDER": "Lots <lots@kommunen.example>",
            **self.environment,
        }

    # -- commands --------------------------------------------------------------

    def guide(self, *args: str, timeout: float = 180) -> str:
        """Run `guide ARGS` as a subprocess; return what it printed; fail if it exits non-zero."""
        returncode, output = self.guide_exit(*args, timeout=timeout)
        if returncode != 0:
            raise CommandFailed(f"`guide {' '.join(args)}` exited {returncode}:\n{output}")
        return output

    def guide_exit(self, *args: str, timeout: float = 180) -> tuple[int, str]:
        """Run `guide ARGS` as a subprocess; return its exit status and output (stdout, stderr)."""
        result = subprocess.run(
            [str(GUIDE), *args],
            env=self.environment,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return result.returncode, result.stdout + result.stderr

    def tick(self, local_moment: datetime) -> str:
        """Run `guide scheduler tick --now` at a moment given in Stockholm time."""
        return self.guide("scheduler", "tick", "--now", local_moment.isoformat())

    @contextmanager
    def serving(self, **variables: str) -> Iterator[subprocess.Popen[str]]:
        """Run `guide serve` until the block ends; return when it answers."""
        environment = {**self.environment, **variables}
        log = (self.root / "serve.log").open("a")  # a file: a full pipe would stop the server
        process = subprocess.Popen(
            [str(GUIDE), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=environment,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise CommandFailed(
                        f"`guide serve` exited {process.returncode}:\n{self.server_log()}"
                    )
                try:
                    with urllib.request.urlopen(f"{self.base_url}/api/v1/health", timeout=2):
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()

    def server_log(self) -> str:
        """Return what `guide serve` printed and logged so far."""
        path = self.root / "serve.log"
        return path.read_text() if path.exists() else ""

    # -- the API ---------------------------------------------------------------

    def api(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        """Call the JSON API and return (status, decoded body)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path, method=method, data=data, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        return status, (json.loads(raw) if raw else None)

    # -- the database, read as an operator would with psql ---------------------

    def query(self, sql: str, **parameters: Any) -> list[Any]:
        engine = sa.create_engine(_driver_url(self.database_url))
        try:
            with engine.begin() as connection:
                result = connection.execute(sa.text(sql), parameters)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    def activated_on(self, email: str) -> date:
        """Return the local day on which the relative with `email` redeemed their card."""
        (row,) = self.query(
            "SELECT e.activated_at FROM enrolment e JOIN relative r ON r.id = e.relative_id "
            "WHERE r.email = :email",
            email=email,
        )
        moment = row[0]
        if isinstance(moment, str):  # SQLite hands back text
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return moment.astimezone(STOCKHOLM).date()

    # -- mail ------------------------------------------------------------------

    def wait_for_mail(self, count: int, timeout: float = 30) -> list[Received]:
        """Wait until the SMTP server has received `count` messages in all; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.sink.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} mail(s) at the SMTP server, got "
                    f"{len(self.sink.received)}; the server said:\n{self.server_log()[-3000:]}"
                )
            time.sleep(0.1)
        return list(self.sink.received)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a moment on `day` in Stockholm time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


def days_after(day: date, days: int) -> date:
    return day + timedelta(days=days)


def links_in(mail: Received) -> list[str]:
    return LINK.findall(mail.text())


def login_link(mail: Received) -> str:
    (link,) = [link for link in links_in(mail) if "/logga-in/" in link]
    return link


def _driver_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass
class Page:
    url: str
    status: int
    html: str

    def form(self, action_contains: str) -> tuple[str, dict[str, str]]:
        """Return the action and the hidden fields of the one form whose action matches."""
        found = []
        for match in re.finditer(r"<form\b([^>]*)>(.*?)</form>", self.html, re.S):
            attributes, body = match.groups()
            action = re.search(r'action="([^"]*)"', attributes)
            target = action.group(1) if action else self.url
            if action_contains in target:
                hidden = dict(
                    re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body)
                )
                found.append((urllib.parse.urljoin(self.url, target.replace("&amp;", "&")), hidden))
        if len(found) != 1:
            raise AssertionError(
                f"{len(found)} forms with an action containing {action_contains!r}"
            )
        return found[0]

    def links(self, containing: str) -> list[str]:
        return [
            urllib.parse.urljoin(self.url, href.replace("&amp;", "&"))
            for href in re.findall(r'href="([^"]+)"', self.html)
            if containing in href
        ]


class Browser:
    """A person with a web browser: cookies, redirects followed, forms submitted with their token."""

    def __init__(self) -> None:
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, url: str) -> Page:
        return self._open(urllib.request.Request(url))

    def submit(
        self, page: Page, action: str, fields: dict[str, str] | list[tuple[str, str]] | None = None
    ) -> Page:
        """Fill in and send the form of `page` whose action contains `action`, as a person would.

        The form's hidden fields (its CSRF token) go along, as a browser sends them.
        """
        fields = fields or {}
        target, hidden = page.form(action)
        pairs = list(hidden.items()) + list(fields.items() if isinstance(fields, dict) else fields)
        data = urllib.parse.urlencode(pairs).encode()
        return self._open(urllib.request.Request(target, data=data, method="POST"))

    def _open(self, request: urllib.request.Request) -> Page:
        try:
            with self.opener.open(request, timeout=30) as response:
                return Page(response.url, response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Page(error.url, error.code, error.read().decode())
