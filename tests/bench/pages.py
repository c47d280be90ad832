"""Benchmark (e): the journey API and Min guide under gunicorn, beside a bare Flask route.

    python -m tests.bench.pages

It rebuilds its schema with 10,000 enrolled relatives, 32 of whom have lived 45 days
of the shipped guide `efterlevande` (every release pass of those days run at its
moment, so they hold the modules, check-ins and phase a real relative would), and
logs each of the 32 in through the product's own routes: a login token made by the
product's service, exchanged at `POST /api/v1/auth/token` for a bearer token, and
confirmed at `POST /logga-in/<token>` (with the form's CSRF token) for a session
cookie. Then it starts gunicorn with 2 workers on loopback serving
tests/bench/pages_wsgi.py: the product as deployed, plus a bare Flask app, an
empty product route and product routes that run one and four `SELECT 1` for reference.

A closed-loop load generator (32 threads, one per relative, each sending its next
request when the previous answer has arrived, a fixed number each) asks for each
target in turn, in interleaved rounds so that the machine's other work falls on
all of them alike, and prints p50 and p99 latency of each beside the bare route's
from the same run. It also counts the SQL statements of one request of each page,
in this process through the Flask test client with the same credentials.
"""

from __future__ import annotations

import cProfile
import http.client
import io
import json
import pstats
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

import sqlalchemy as sa
from flask import Flask

from tests.bench.common import (
    REPOSITORY,
    StatementCounter,
    arguments,
    bench_app,
    bench_environment,
    drop_schema,
    fresh_schema,
)
from tests.smtp_sink import HOST, free_port

GUIDE = "efterlevande"
PROFILE = {"relation": "partner", "barn-i-familjen": "no", "sysselsattning": "annat"}


@dataclass(frozen=True)
class Target:
    """One URL to load, with the headers of each client and a fragment every answer must hold."""

    name: str
    path: str
    headers: list[dict[str, str]]
    expect: bytes


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def add(self, other: Sample) -> None:
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        self.seconds += other.seconds

    def percentile(self, share: float) -> float:
        """Return the latency below which `share` of the requests fell (nearest rank), in ms."""
        ordered = sorted(self.latencies)
        rank = max(int(share * len(ordered) + 0.999999) - 1, 0)
        return ordered[rank] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--enrolled", type=int, default=10_000, help="relatives in the database")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (relatives)")
    parser.add_argument("--days", type=int, default=45, help="days the clients have been enrolled")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--requests", type=int, default=40, help="requests per client per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per target")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also profile N requests of each page in this process (cProfile) and print the top",
    )
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    options = parser.parse_args()

    now = datetime.now(UTC)
    url = fresh_schema(options.database, options.schema)
    app = bench_app(url)
    client_ids = enrol_population(app, options.enrolled, options.clients, options.days, now)
    login_tokens = make_login_tokens(app, client_ids, now)

    port = free_port()
    environment = bench_environment(url, GUIDE_BASE_URL=f"http://{HOST}:{port}")
    server = start_gunicorn(environment, port, options.workers)
    try:
        bearers = [api_login(port, api_token) for api_token, _ in login_tokens]
        cookies = [page_login(port, page_token) for _, page_token in login_tokens]
        targets = [
            Target("bare Flask route", "/bench/bare/", [{}], b"ok"),
            Target("product app, empty route (no login)", "/bench/empty", [{}], b"ok"),
            Target("product app, one SELECT 1 (no login)", "/bench/statements/1", [{}], b"ok"),
            Target("product app, four SELECT 1 (no login)", "/bench/statements/4", [{}], b"ok"),
            Target(
                "GET /api/v1/me/journey",
                "/api/v1/me/journey",
                [{"Authorization": f"Bearer {token}"} for token in bearers],
                b'"released"',
            ),
            Target(
                "Min guide /min-guide/",
                "/min-guide/",
                [{"Cookie": f"session={cookie}"} for cookie in cookies],
                b"Dina avsnitt",
            ),
        ]
        print_statements(bench_app(url, GUIDE_BASE_URL=f"http://{HOST}:{port}"), targets[4:])
        if options.profile:
            profile_pages(
                bench_app(url, GUIDE_BASE_URL=f"http://{HOST}:{port}"),
                targets[4:],
                options.profile,
            )
        samples = run_load(port, targets, options.clients, options.requests, options.rounds)
    finally:
        stop(server)
    print_table(samples, options)
    if not options.keep:
        drop_schema(options.database, options.schema)


# -- the population ------------------------------------------------------------------


def enrol_population(
    app: Flask, enrolled: int, clients: int, days: int, now: datetime
) -> list[int]:
    """Enrol `enrolled` relatives; let `clients` of them live `days` of the guide. Return theirs."""
    from guide.extensions import db
    from guide.models import Enrolment, Relative
    from guide.services.accounts import create_organisation, create_unit
    from guide.services.journey import published_version
    from guide.services.library import current_library
    from scheduler.jobs import release_due
    from tests.synthetic import create_enrolments

    activated_at = now - timedelta(days=days)
    started = time.perf_counter()
    with app.app_context():
        library = current_library()
        organisation = create_organisation(db.session, "benchkommun", "Benchmark kommun")
        unit = create_unit(db.session, organisation, "stod", "Stöd till efterlevande")
        opening = published_version(db.session, library.guide(GUIDE).module("de-forsta-dagarna"))
        db.session.commit()
        common = {
            "organisation_id": organisation.id,
            "unit_id": unit.id,
            "guide_id": GUIDE,
            "phase": "akut",
            "activated_at": activated_at,
            "profile": PROFILE,
            "opening_module": ("de-forsta-dagarna", opening.id),
        }
        with db.engine.begin() as connection:
            # The others fall due after the benchmark: they only make the tables realistic.
            create_enrolments(
                connection,
                prefix="other",
                count=enrolled - clients,
                next_due_at=now + timedelta(days=30),
                **common,
            )
            create_enrolments(
                connection, prefix="client", count=clients, next_due_at=activated_at, **common
            )
        passes = 0
        while True:  # every pass of the clients' days, each at its own moment
            moment = db.session.scalar(
                sa.select(sa.func.min(Enrolment.next_due_at)).where(Enrolment.status == "active")
            )
            db.session.rollback()
            if moment is None or moment > now:
                break
            release_due(db.session, library, moment)
            passes += 1
        client_ids = list(
            db.session.scalars(
                sa.select(Relative.id).where(Relative.email.like("client-%")).order_by(Relative.id)
            )
        )
        held = db.session.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM release r JOIN enrolment e ON e.id = r.enrolment_id"
                "        WHERE e.relative_id = :one),"
                " (SELECT count(*) FROM checkin_instance c JOIN enrolment e"
                "        ON e.id = c.enrolment_id WHERE e.relative_id = :one"
                "        AND c.answered_at IS NULL AND c.expired_at IS NULL),"
                " (SELECT phase FROM phase_visit p JOIN enrolment e ON e.id = p.enrolment_id"
                "        WHERE e.relative_id = :one ORDER BY p.started_at DESC, p.id DESC LIMIT 1)"
            ),
            {"one": client_ids[0]},
        ).one()
        db.session.rollback()
        with db.engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
        db.engine.dispose()
    print(
        f"enrolled {enrolled:,} relatives; {clients} of them {days} days in {GUIDE} "
        f"({passes} release passes): each holds {held[0]} modules, {held[1]} open check-in(s), "
        f"phase {held[2]}; {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return client_ids


def make_login_tokens(app: Flask, relative_ids: list[int], now: datetime) -> list[tuple[str, str]]:
    """Make two login tokens per relative with the product's service: one for the API, one for the page."""
    from guide.extensions import db
    from guide.models import Relative
    from guide.services.login import create_login_token, mail_link_lifetime

    with app.app_context():
        lifetime = mail_link_lifetime()
        tokens = []
        for relative_id in relative_ids:
            relative = db.session.get_one(Relative, relative_id)
            tokens.append(
                (
                    create_login_token(db.session, relative, now, lifetime),
                    create_login_token(db.session, relative, now, lifetime),
                )
            )
        db.session.commit()
        db.engine.dispose()
    return tokens


# -- gunicorn and logging in -----------------------------------------------------------


def start_gunicorn(environment: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """Start gunicorn on loopback with the benchmark's WSGI app; return once it answers."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            "tests.bench.pages_wsgi:application",
        ],
        cwd=REPOSITORY,
        env=environment,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped with exit code {server.returncode}.")
        try:
            status, _, _ = request(port, "GET", "/bench/bare/")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop(server)
    raise SystemExit("gunicorn did not answer within 60 s.")


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn (SIGTERM: its workers finish their request and go)."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def api_login(port: int, login_token: str) -> str:
    """Exchange a login token for a bearer token at POST /api/v1/auth/token."""
    status, _, body = request(
        port,
        "POST",
        "/api/v1/auth/token",
        json.dumps({"login_token": login_token}).encode(),
        {"Content-Type": "application/json"},
    )
    if status != 200:
        raise SystemExit(f"POST /api/v1/auth/token answered {status}: {body[:200]!r}")
    return str(json.loads(body)["token"])


def _session_cookie(headers: http.client.HTTPMessage) -> str | None:
    for header in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie(header)
        if "session" in cookie:
            return cookie["session"].value
    return None


def page_login(port: int, login_token: str) -> str:
    """Open the login link's page and press its button, as a browser would; return the session."""
    path = f"/logga-in/{login_token}"
    status, headers, body = request(port, "GET", path)
    found = re.search(rb'name="csrf_token" value="([^"]+)"', body)
    cookie = _session_cookie(headers)
    if status != 200 or found is None or cookie is None:
        raise SystemExit(f"GET {path} answered {status} without a form token and a session.")
    form = b"csrf_token=" + found.group(1)
    status, headers, body = request(
        port,
        "POST",
        path,
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"session={cookie}"},
    )
    logged_in = _session_cookie(headers)
    if status != 302 or logged_in is None or "/min-guide/" not in (headers["Location"] or ""):
        raise SystemExit(f"POST {path} answered {status}, not a redirect to Min guide.")
    return logged_in


# -- statements and profiles in this process -----------------------------------------


def _test_request(client: Any, target: Target, number: int) -> None:
    headers = target.headers[number % len(target.headers)]
    response = client.get(target.path, headers=headers)
    if response.status_code != 200 or target.expect not in response.data:
        raise SystemExit(f"{target.path} answered {response.status_code} in the test client.")


def print_statements(app: Flask, targets: list[Target]) -> None:
    """Count the SQL statements of one request of each target (after one to warm up)."""
    from guide.extensions import db

    client = app.test_client(use_cookies=False)
    with app.app_context():
        engine = db.engine
    for target in targets:
        _test_request(client, target, 0)
        with StatementCounter(engine, origins=True) as counter:
            _test_request(client, target, 1)
        print(f"{target.name}: one request")
        for line in counter.report(1, "request"):
            print(f"  {line}")


def profile_pages(app: Flask, targets: list[Target], count: int) -> None:
    """Profile `count` requests of each target in this process and print where the time goes."""
    client = app.test_client(use_cookies=False)
    for target in targets:
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for number in range(count):
            _test_request(client, target, number)
        profiler.disable()
        each = (time.perf_counter() - started) / count * 1000
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(30)
        stats.print_stats(r"/(guide|scheduler)/", 30)  # the product's own functions
        stats.sort_stats("tottime").print_stats(25)
        print(f"== profile of {count} requests of {target.name}: {each:.1f} ms each (profiled)")
        print(out.getvalue())


# -- the load ------------------------------------------------------------------------


def load(port: int, target: Target, clients: int, requests_each: int) -> Sample:
    """Let `clients` threads send `requests_each` requests each, one at a time; time each."""
    sample = Sample()
    errors = [0] * clients
    gate = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        headers = target.headers[number % len(target.headers)]
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        gate.wait()
        for _ in range(requests_each):
            started = time.perf_counter()
            try:
                connection.request("GET", target.path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and target.expect in body
            except (OSError, http.client.HTTPException):
                connection.close()
                ok = False
            sample.latencies.append(time.perf_counter() - started)
            errors[number] += not ok
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    sample.seconds = time.perf_counter() - started
    sample.errors = sum(errors)
    return sample


def run_load(
    port: int, targets: list[Target], clients: int, requests_each: int, rounds: int
) -> dict[str, Sample]:
    """Warm every target up, then load them in turn, `rounds` times over."""
    for target in targets:
        load(port, target, clients, 2)
    samples = {target.name: Sample() for target in targets}
    for number in range(rounds):
        for target in targets:
            sample = load(port, target, clients, requests_each)
            samples[target.name].add(sample)
            print(
                f"round {number + 1}: {target.name}: p50 {sample.percentile(0.5):.1f} ms, "
                f"p99 {sample.percentile(0.99):.1f} ms, {sample.rate:,.0f} requests/s, "
                f"{sample.errors} errors",
                flush=True,
            )
    return samples


def print_table(samples: dict[str, Sample], options: Any) -> None:
    bare = samples["bare Flask route"]
    print()
    print(
        f"gunicorn, {options.workers} workers, {options.clients} concurrent clients, "
        f"{options.rounds} rounds of {options.requests} requests per client per target"
    )
    print("| what | requests | errors | requests/s | p50 | p99 | p50 vs bare | p99 vs bare |")
    print("|---|---|---|---|---|---|---|---|")
    for name, sample in samples.items():
        print(
            f"| {name} | {len(sample.latencies):,} | {sample.errors} | {sample.rate:,.0f} | "
            f"{sample.percentile(0.5):.1f} ms | {sample.percentile(0.99):.1f} ms | "
            f"{sample.percentile(0.5) / bare.percentile(0.5):.1f}x | "
            f"{sample.percentile(0.99) / bare.percentile(0.99):.1f}x |"
        )
    failed = sum(sample.errors for sample in samples.values())
    if failed:
        raise SystemExit(f"{failed} requests failed.")


if __name__ == "__main__":
    main()
