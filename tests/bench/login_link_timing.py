"""How long asking for a login link takes, for an address that has an account and one that has not.

A real HTTP server (Werkzeug, threaded) on loopback, mail through a real SMTP server
(aiosmtpd, tests/smtp_sink.py) on loopback, PostgreSQL. Each request is timed from
the client's side until the whole answer has arrived, in a shuffled order of known
and unknown addresses; each request waits for the previous mail to reach the SMTP
server, so none is timed while another's mail is sent. Every known address is asked
for once, so the per-address limit never holds a mail back. Prints the median and
90th percentile per kind.

    python -m tests.bench.login_link_timing --count 40
"""

from __future__ import annotations

import http.client
import json
import random
import re
import statistics
import threading
import time
from urllib.parse import urlencode

from werkzeug.serving import make_server

from tests.bench.common import arguments, bench_app, fresh_schema
from tests.smtp_sink import HOST, free_port, running_sink, smtp_environment


def _form_session(port: int) -> tuple[str, str]:
    """Open the login page as a browser does; return its session cookie and form token."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", "/logga-in")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    connection.close()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None and cookie, "the login page carries a form token and a session"
    return cookie, token.group(1)


def _post(port: int, path: str, body: bytes, content_type: str, cookie: str = "") -> float:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    started = time.perf_counter()
    headers = {"Content-Type": content_type, **({"Cookie": cookie} if cookie else {})}
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    assert response.status in (200, 202), response.status
    return elapsed


def _summary(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[int(len(ms) * 0.9) - 1]
    return f"{label:<28} median {statistics.median(ms):7.1f} ms   p90 {p90:7.1f} ms   n={len(ms)}"


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="requests per kind and route")
    args = parser.parse_args()
    url = fresh_schema(args.database, args.schema)
    with running_sink() as sink:
        # The limits would hold a timing run of this size back; CSRF stays on, as deployed.
        app = bench_app(url, GUIDE_RATELIMIT_ENABLED="0", **smtp_environment(sink.port))
        with app.app_context():
            from guide.extensions import db
            from guide.models import Relative
            from guide.models.base import utcnow

            for n in range(2 * args.count):
                db.session.add(Relative(email=f"known{n}@example.se", created_at=utcnow()))
            db.session.commit()
        port = free_port()
        server = make_server(HOST, port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            timings: dict[str, list[float]] = {}
            requests = [
                (route, kind, n)
                for n in range(args.count)
                for route in ("API", "/logga-in")
                for kind in ("known", "unknown")
            ]
            random.Random(17).shuffle(requests)
            cookie, token = _form_session(port)
            expected = 0
            for route, kind, n in requests:
                index = n if route == "API" else args.count + n
                email = f"{'known' if kind == 'known' else 'nobody'}{index}@example.se"
                if route == "API":
                    body, content_type, path = (
                        json.dumps({"email": email}).encode(),
                        "application/json",
                        "/api/v1/auth/login-link",
                    )
                else:
                    body = urlencode({"email": email, "csrf_token": token}).encode()
                    content_type, path = "application/x-www-form-urlencoded", "/logga-in"
                timings.setdefault(f"{route} {kind}", []).append(
                    _post(port, path, body, content_type, cookie if route != "API" else "")
                )
                expected += kind == "known"
                # Let the mail go out before the next request, so no request is timed
                # while another one's mail is being sent.
                deadline = time.monotonic() + 30
                while len(sink.received) < expected and time.monotonic() < deadline:
                    time.sleep(0.005)
        finally:
            server.shutdown()
        for label, seconds in timings.items():
            print(_summary(label, seconds))
        print(f"mails received by the SMTP server: {len(sink.received)} of {2 * args.count}")


if __name__ == "__main__":
    main()
