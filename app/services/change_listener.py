"""PostgreSQL ``LISTEN``: each serving worker's thread that hears of changes committed anywhere.

``gatehouse serve`` turns it on for its workers (``listen``); other processes (the
CLI, the mail worker, tests) rely on the change log's quarter-second check alone.

The thread only nudges the worker's ``ChangeFeed`` (which then reads the change
log before its next use of cached state); it never touches the caches itself.
If its connection breaks (the server restarts, someone terminates it), it
reconnects with a growing pause and nudges once it is back, in case a
notification was lost meanwhile; the feed's quarter-second check holds the
one-second bound all the while.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy.engine import make_url

from app.services.change_feed import CHANNEL, ChangeFeed

log = logging.getLogger(__name__)
WAIT = 5.0
RETRY_MAX = 30.0


def listen(feed: ChangeFeed, database_url: str) -> None:
    """Have each process that uses ``feed`` listen for changes (PostgreSQL only).

    The thread starts with the first use of the feed in a process, so a server that
    forks its workers after loading the app gets one thread per worker.
    """
    if not database_url.startswith("postgresql"):
        return
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)

    def start(started: ChangeFeed) -> None:
        thread = threading.Thread(
            target=_listen, args=(dsn, started), name="gatehouse-change-listener", daemon=True
        )
        thread.start()

    feed.start_listener = start


def _listen(dsn: str, feed: ChangeFeed) -> None:
    pause = 0.5
    while not feed.closed.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as connection:
                connection.execute(f"LISTEN {CHANNEL}")
                feed.nudge()  # anything missed while not listening
                pause = 0.5
                while not feed.closed.is_set():
                    for _ in connection.notifies(timeout=WAIT, stop_after=1):
                        feed.nudge()
        except Exception as exc:  # noqa: BLE001 - any failure: log, wait, listen again
            log.warning("change listener disconnected (%s); retrying in %.1f s", exc, pause)
            feed.closed.wait(pause)
            pause = min(pause * 2, RETRY_MAX)
