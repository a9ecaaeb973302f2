"""``gatehouse worker``: queue expiry reminders and deliver due mail, pass after pass.

Each pass (``run_once``) first queues the reminders that fell due, then claims
due messages in batches and sends them. Any number of workers may run at once:
claims and reminders are guarded in the database (``app.services.outbox*``).
A message is marked sent only after the transport accepted it, so a crash can at
worst repeat a send (with the same ``Message-ID``), never lose one.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from app.extensions import db
from app.mail.message import build_email
from app.mail.transport import DeliveryError, Transport, transport_for
from app.models.types import utcnow
from app.services import outbox, outbox_delivery
from app.services.outbox_delivery import Outgoing
from app.services.runtime import settings

log = logging.getLogger("app.mail")
BATCH = 20
#: batches per pass at most, so one pass always ends
MAX_BATCHES = 50
DEFAULT_INTERVAL = 2.0


def worker_name() -> str:
    """``host:pid:random``: names the claims a worker holds (for people reading the table)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_once(
    now: datetime | None = None,
    *,
    worker: str | None = None,
    transport: Transport | None = None,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """One pass at ``now``: returns how many reminders were queued and messages handled.

    ``sent``: delivered; ``retrying``: failed, queued again after a backoff;
    ``failed``: given up (a permanent refusal, or too many attempts).
    """
    now = now or utcnow()
    worker = worker or worker_name()
    counts = {
        "reminders": outbox.queue_expiry_reminders(now),
        "sent": 0,
        "retrying": 0,
        "failed": 0,
    }
    mail_from = settings().mail_from
    with transport or transport_for(settings()) as sender:
        for _ in range(MAX_BATCHES):
            batch = [] if _stopping(stop) else outbox_delivery.claim_due(worker, now, BATCH)
            if not batch:
                break
            for index, outgoing in enumerate(batch):
                if _stopping(stop):
                    outbox_delivery.release([item.id for item in batch[index:]])
                    break
                counts[_deliver(sender, outgoing, mail_from, now)] += 1
    return counts


def _stopping(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


def _deliver(sender: Transport, outgoing: Outgoing, mail_from: str, now: datetime) -> str:
    outbox_delivery.start_attempt(outgoing.id, now)
    try:
        try:
            email = build_email(outgoing, mail_from)
        except (ValueError, TypeError) as exc:  # a header the email package refuses
            raise DeliveryError(f"cannot build the message: {exc}", permanent=True) from None
        sender.send(email, f"{outgoing.created_at:%Y%m%d-%H%M%S}-{outgoing.id}-{outgoing.kind}")
    except DeliveryError as exc:
        message = outbox_delivery.mark_failed(outgoing.id, str(exc), now, permanent=exc.permanent)
        log.warning(
            "mail %s (%s) not delivered, attempt %s: %s; %s",
            outgoing.id,
            outgoing.kind,
            message.attempts,
            exc,
            "given up" if message.status == "failed" else f"next try {message.next_attempt_at}",
        )
        return "failed" if message.status == "failed" else "retrying"
    outbox_delivery.mark_sent(outgoing.id, now, via=sender.via)
    log.info("mail %s (%s) sent", outgoing.id, outgoing.kind)
    return "sent"


def run_forever(interval: float = DEFAULT_INTERVAL, stop: threading.Event | None = None) -> None:
    """Pass after pass until SIGTERM or SIGINT (or ``stop`` is set); needs an app context.

    A failing pass (the database is down, say) is logged and tried again on the
    next one: the worker outlives outages of SMTP and of the database.
    """
    stop = stop or threading.Event()
    worker = worker_name()
    restore = _handle_signals(stop)
    log.info("mail worker %s started, %s", worker, transport_for(settings()).label)
    try:
        while not stop.is_set():
            try:
                counts = run_once(worker=worker, stop=stop)
                if any(counts.values()):
                    log.info("mail pass: %s", counts)
            except Exception:
                log.exception("mail pass failed; trying again in %s s", interval)
            finally:
                db.session.remove()  # a fresh connection next pass: the database may restart
            stop.wait(interval)
    finally:
        restore()
        log.info("mail worker %s stopped", worker)


def _handle_signals(stop: threading.Event) -> Callable[[], None]:
    """Set ``stop`` on SIGTERM/SIGINT; returns a function restoring the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may set handlers (tests run the loop in others)

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("mail worker stopping (%s)", signal.Signals(signum).name)
        # Not ``stop.set()`` here: the handler runs in the main thread, which may hold the
        # event's (non-reentrant) lock inside ``stop.wait``, and would wait on itself for
        # ever. Another thread sets it once the main thread lets the lock go.
        threading.Thread(target=stop.set, name="mail-worker-stop").start()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
