"""Send the mail a person waits for (login links, the welcome) right after the answer, not in it.

Sending inside the request made `POST /logga-in` take 330 ms for a known address and
4 ms for an unknown one, which tells anyone which addresses have an account. So a
view only commits the outbox row and calls `send_after_request`; when the server has
sent the whole answer and closes it, a thread of this process sends the mail with
`send_now`. Should that fail, or
the process die first, the row is still in the outbox and the delivery pass sends
it (SPEC §6: nothing is lost).

One thread per process, started on first use, so it also works in each gunicorn
worker (a thread does not survive a fork: the pid is checked). `drain()` waits until
everything handed over so far has been tried; tests call it instead of sleeping.
"""

from __future__ import annotations

import logging
import os
import queue
import threading

from flask import Flask, after_this_request, current_app, has_request_context
from flask.wrappers import Response
from sqlalchemy import inspect

from guide.extensions import db
from guide.mail.delivery import send_now
from guide.models import OutboxMessage

log = logging.getLogger(__name__)


class BackgroundSender:
    """A queue of outbox message ids and the one thread that sends them."""

    def __init__(self, app: Flask):
        self.app = app
        self._queue: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._held: set[int] = set()

    def submit(self, message_id: int) -> None:
        """Hand a committed outbox row to the sending thread."""
        self._ensure_thread()
        self._queue.put(message_id)

    def hold(self, message_id: int) -> None:
        """Keep a message until `release` (when its answer has been sent) or `drain`."""
        with self._lock:
            self._held.add(message_id)

    def release(self, message_id: int) -> None:
        with self._lock:
            if message_id not in self._held:
                return  # drain() handed it over already
            self._held.discard(message_id)
        self.submit(message_id)

    def drain(self) -> None:
        """Wait until every message handed over so far has been sent or given back to the outbox.

        Messages still held for an answer that was never closed (a test client does
        not close its responses) are handed over first.
        """
        with self._lock:
            held, self._held = self._held, set()
        for message_id in sorted(held):
            self.submit(message_id)
        self._queue.join()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: its own queue and thread
                self._queue = queue.Queue()
                self._thread = None
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="lots-background-mail", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            message_id = self._queue.get()
            try:
                self._send(message_id)
            except Exception:  # the outbox keeps the row; the delivery pass retries it
                log.exception("Background sending of outbox message %s failed", message_id)
            finally:
                self._queue.task_done()

    def _send(self, message_id: int) -> None:

        # An app context is enough: links are built from GUIDE_BASE_URL (guide/urls.py).
        with self.app.app_context():
            try:
                message = db.session.get(OutboxMessage, message_id)
                if message is not None:
                    send_now(db.session, message)
            finally:
                db.session.remove()


def sender() -> BackgroundSender:
    return current_app.extensions["background_mail"]  # type: ignore[no-any-return]


def send_after_request(message: OutboxMessage | None) -> None:
    """Send a committed outbox message once the current request has been answered.

    Outside a request (a command, a job) it is handed to the thread at once.
    """
    if message is None:
        return
    # From the identity, not the attribute: after the commit that would be a query.
    identity = inspect(message).identity
    message_id = int(identity[0]) if identity else message.id
    background = sender()
    if not has_request_context():
        background.submit(message_id)
        return

    # Handed over when the server closes the answer, i.e. once it is all sent: the
    # sending then cannot slow the answer down, not even by taking turns on the GIL.
    background.hold(message_id)

    @after_this_request
    def _hand_over(response: Response) -> Response:
        response.call_on_close(lambda: background.release(message_id))
        return response


def drain() -> None:
    """Wait for the sending thread to try everything handed to it so far."""
    sender().drain()


def init_app(app: Flask) -> None:
    app.extensions["background_mail"] = BackgroundSender(app)
