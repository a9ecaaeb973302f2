"""The hot-path view of clients: immutable snapshots, kept until the client changes.

``/token`` and ``/introspect`` read a client's state from here, never from the
ORM directly, and nothing is written per token. A snapshot is read once and
kept until the change log says the client changed (``change_feed``: at once in
this instance, within a quarter second anywhere), and at most ``SNAPSHOT_TTL``
(a bound on what the log cannot see, such as a row edited by hand).
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
from app.services.change_feed import ChangeFeed

SNAPSHOT_TTL = 60.0


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


#: the columns a snapshot is made of: one indexed read, no owner join, no ORM entity
_COLUMNS = (
    Client.client_id,
    Client.secret_hash,
    Client.previous_secret_hash,
    Client.previous_secret_valid_until,
    Client.scope,
    Client.expires_on,
    Client.revoked_at,
    Client.not_before,
    Client.jwks,
    Client.allowed_networks,
)


def _load(client_id: str) -> ClientSnapshot | None:
    """The client as the database holds it now, or None.

    Columns rather than the ORM entity: the entity joins its owner and loads the
    owner's services (a second query), so a known client cost measurably more than
    an unknown one (a timing that tells which client ids exist). Rows are not kept
    in the session's identity map either, so nothing stale from earlier in the
    request can come back.
    """
    row = db.session.execute(select(*_COLUMNS).where(Client.client_id == client_id)).first()
    if row is None:
        return None
    return ClientSnapshot(
        client_id=row.client_id,
        secret_hash=row.secret_hash,
        previous_secret_hash=row.previous_secret_hash,
        previous_valid_until=row.previous_secret_valid_until,
        scopes=tuple(row.scope.split()),
        valid_until=validity.valid_until(row.expires_on),
        revoked=row.revoked_at is not None,
        not_before=row.not_before,
        key_set=client_keys.load_key_set(row.jwks) if row.jwks is not None else None,
        networks=client_networks.compile_networks(row.allowed_networks.split()),
    )


class ClientCache:
    """Per-process snapshots of the clients this worker serves."""

    def __init__(self, changes: ChangeFeed, ttl: float = SNAPSHOT_TTL) -> None:
        self._snapshots: TTLCache[str, ClientSnapshot | None] = TTLCache(ttl)
        self._changes = changes
        changes.subscribe(client=self.forget, reset=self._snapshots.clear)

    def get(self, client_id: str) -> ClientSnapshot | None:
        """The client's current snapshot, or None if unknown."""
        if not client_secrets.is_plausible_client_id(client_id):
            return None
        self._changes.sync()
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

    def failure_reason(self, client_id: str, secret: str) -> str:
        """Why ``authenticate`` refused these credentials, for the operator only (metrics,
        logs): ``malformed``, ``unknown_or_wrong``, ``revoked`` or ``expired``. Called on
        the failure path alone; the caller's answer is the same whatever it says."""
        if not client_secrets.is_well_formed(secret):
            return "malformed"
        snapshot = self.get(client_id)
        now = utcnow()
        if snapshot is None or not snapshot.check_secret(secret, now):
            return "unknown_or_wrong"
        return "revoked" if snapshot.revoked else "expired"

    def forget(self, client_id: str) -> None:
        """Drop a client's snapshot after a change made by this process."""
        self._snapshots.forget(client_id)
