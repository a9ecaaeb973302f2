"""When a client was last used: written at most once a minute per client and worker.

Tokens are never stored, so ``last_used_at`` is the only write a token request
can cause; throttling it keeps ``/token`` free of a database write per request.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import update

from app.extensions import db
from app.models import Client
from app.models.types import utcnow
from app.services.transaction import transaction

LAST_USED_EVERY = 60.0
MAX_REMEMBERED = 100_000


class UsageRecorder:
    def __init__(self, every: float = LAST_USED_EVERY) -> None:
        self.every = every
        self._written: dict[str, float] = {}
        self._lock = threading.Lock()

    def touch(self, client_id: str) -> None:
        """Record a use of the client, unless this worker wrote one in the last minute."""
        now = time.monotonic()
        with self._lock:
            if now - self._written.get(client_id, float("-inf")) < self.every:
                return
            if len(self._written) > MAX_REMEMBERED:
                self._written.clear()
            self._written[client_id] = now
        with transaction():
            db.session.execute(
                update(Client).where(Client.client_id == client_id).values(last_used_at=utcnow())
            )
