"""When and from where a client was last used: written at most once a minute per client
and worker.

Every successful client authentication counts (``/token``, ``/introspect``, ``/revoke``,
``/revocations``), so a resource service that only introspects shows as used too.
Tokens are never stored, so this is the only write a secret client's request can
cause; throttling it keeps ``/token`` free of a database write per request. A use
of the previous secret during a rotation's grace period is throttled on its own,
so ``previous_secret_last_used_at`` tells the owner when it is safe to let it go.
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
        self._written: dict[tuple[str, bool], float] = {}
        self._lock = threading.Lock()

    def touch(self, client_id: str, address: str, previous_secret: bool = False) -> None:
        """Record a use of the client from ``address`` (with its previous secret, if so),
        unless this worker wrote one in the last minute."""
        key = (client_id, previous_secret)
        now = time.monotonic()
        with self._lock:
            if now - self._written.get(key, float("-inf")) < self.every:
                return
            if len(self._written) > MAX_REMEMBERED:
                self._written.clear()
            self._written[key] = now
        moment = utcnow()
        values = {"last_used_at": moment, "last_used_ip": address[:64]}
        if previous_secret:
            values["previous_secret_last_used_at"] = moment
        with transaction():
            db.session.execute(update(Client).where(Client.client_id == client_id).values(**values))
