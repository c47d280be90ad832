"""A sending process that dies mid-batch, for tests/test_delivery.py.

It runs in the delivery pass's sending process (guide.mail.sending), so it lives in
a module that process can import: monkeypatch does not reach into another process.
"""

from __future__ import annotations

import os
import smtplib
from datetime import datetime

from guide.mail import sending
from guide.mail.smtp import SmtpSettings

TAKEN_UNMARKED = 5


def send_a_group_and_five_more_then_die(
    smtp: SmtpSettings, batch: list[sending.Wire], now: datetime
) -> sending.Sending:
    """Send and mark one group; send five more; die before marking them."""
    sending.send_batch_in_process(smtp, batch[: sending.SENT_GROUP], now)
    more = batch[sending.SENT_GROUP : sending.SENT_GROUP + TAKEN_UNMARKED]
    with smtplib.SMTP(smtp.server, smtp.port, timeout=smtp.timeout) as server:
        for item in more:
            server.sendmail(item.envelope_from, [item.recipient], item.data)
    os._exit(1)  # killed: no mark, no reply to the pass
