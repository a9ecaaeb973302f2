"""The hot-path view of clients: immutable snapshots cached for half a second.

``/token`` and ``/introspect`` read a client's state from here, never from the
ORM directly: one indexed read per client per half second per worker, no
write per token. A revocation committed anywhere is therefore seen by every
worker of every instance within ``SNAPSHOT_TTL``, inside the one-second bound
on revocation, and at once in the process that made it (``forget``, called
after every commit that changes a client).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from joserfc.jwk import KeySet
from sqlalchemy import select

from app.extensions import db
from app.models import Client
from app.models.types import utcnow
from app.security import client_keys
from app.security import networks as client_networks
from app.security import secrets as client_secrets
from app.services import validity
from app.services.cache import TTLCache

SNAPSHOT_TTL = 0.5


@dataclass(frozen=True)
class ClientSnapshot:
    client_id: str
    secret_hash: str | None
    previous_secret_hash: str | None
    previous_valid_until: datetime | None
    scopes: tuple[str, ...]
    #: the first instant (naive UTC) at which the client is expired (``validity.valid_until``)
    valid_until: datetime
    revoked: bool
    not_before: datetime | None
    #: a key client's public keys (``private_key_jwt``); None for a secret client
    key_set: KeySet | None = None
    #: where the client may authenticate from (empty: anywhere)
    networks: tuple[client_networks.Network, ...] = ()

    def is_active(self, now: datetime) -> bool:
        return not self.revoked and now < self.valid_until

    def check_secret(self, secret: str, now: datetime) -> str | None:
        """Which secret matches, ``"current"`` or ``"previous"`` (only within its grace), or
        None: one SHA-256 and a constant-time compare per stored hash tried."""
        if client_secrets.secret_matches(secret, self.secret_hash):
            return CURRENT
        grace = self.previous_valid_until
        previous = self.previous_secret_hash
        if grace and now < grace and client_secrets.secret_matches(secret, previous):
            return PREVIOUS
        return None


CURRENT, PREVIOUS = "current", "previous"


def _snapshot(client: Client) -> ClientSnapshot:
    return ClientSnapshot(
        client_id=client.client_id,
        secret_hash=client.secret_hash,
        previous_secret_hash=client.previous_secret_hash,
        previous_valid_until=client.previous_secret_valid_until,
        scopes=tuple(client.scopes),
        valid_until=validity.valid_until(client.expires_on),
        revoked=client.revoked_at is not None,
        not_before=client.not_before,
        key_set=client_keys.load_key_set(client.jwks) if client.jwks is not None else None,
        networks=client_networks.compile_networks(client.networks),
    )


def _load(client_id: str) -> ClientSnapshot | None:
    # populate_existing: the session may still hold this row from earlier in the request
    # (identity map); the snapshot must come from the database as it is now
    client = db.session.scalars(
        select(Client)
        .where(Client.client_id == client_id)
        .execution_options(populate_existing=True)
    ).first()
    return _snapshot(client) if client else None


class ClientCache:
    """Per-process snapshots of the clients this worker serves."""

    def __init__(self, ttl: float = SNAPSHOT_TTL) -> None:
        self._snapshots: TTLCache[str, ClientSnapshot | None] = TTLCache(ttl)

    def get(self, client_id: str) -> ClientSnapshot | None:
        """The client's current snapshot (at most ``ttl`` old), or None if unknown."""
        if not client_secrets.is_plausible_client_id(client_id):
            return None
        return self._snapshots.get(client_id, _load)

    def authenticate(self, client_id: str, secret: str) -> tuple[ClientSnapshot, bool] | None:
        """The active secret client these credentials belong to, and whether its in-grace
        previous secret was used; or None (one answer for all failures). A key client has no
        secret: none authenticates it. (A plain tuple: a NamedTuple costs 10 times more to
        build, on every /token.)"""
        if not client_secrets.is_well_formed(secret):
            return None  # rejected without touching the database
        snapshot = self.get(client_id)
        now = utcnow()
        if snapshot is None or not snapshot.is_active(now):
            return None
        matched = snapshot.check_secret(secret, now)
        return (snapshot, matched == PREVIOUS) if matched else None

    def forget(self, client_id: str) -> None:
        """Drop a client's snapshot after a change made by this process."""
        self._snapshots.forget(client_id)
