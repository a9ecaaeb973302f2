"""What guards a client besides its secret: a key client's public keys, and the networks
a client may authenticate from.

Each replacement is one function whichever room asks (console, API, CLI); each writes
its audit entry and queues its email in the same transaction as the change, and
drops this worker's snapshot of the client after the commit, so the old keys or
networks stop counting at once here and within half a second everywhere else.
"""

from __future__ import annotations

from app.errors import Conflict
from app.models import Client
from app.models.types import utcnow
from app.security import client_keys
from app.services import audit, outbox
from app.services import client_rules as rules
from app.services.actors import Actor
from app.services.client_queries import find_client, status_of
from app.services.transaction import client_changed, transaction


def set_keys(actor: Actor, client_id: str, jwks: str | dict) -> Client:
    """Replace a key client's public keys (a JWK Set, or one PEM public key).

    A secret client stays one: how a client authenticates is fixed when it is created.
    Replacing the keys with the same keys changes nothing and mails no one.
    """
    key_set = rules.check_key_set(jwks)
    with transaction():
        client = _active(actor, client_id)
        if client.jwks is None:
            raise Conflict(
                f"client {client_id} authenticates with a secret, and how a client "
                "authenticates is fixed when it is created: generate a key client instead",
                {"jwks": "secret_client"},
            )
        if key_set == client.jwks:
            return client
        kids = client_keys.key_ids(key_set)
        client.jwks = key_set
        client.updated_at = utcnow()
        audit.record(actor, "client.set_keys", client_id, kids=kids)
        outbox.queue_client_event(client, "keys_replaced", actor, kids=kids)
        client_changed(client_id)
    return client


def set_networks(actor: Actor, client_id: str, networks: list[str]) -> Client:
    """Replace the networks a client may authenticate from (an empty list: anywhere).

    The same networks again change nothing and mail no one.
    """
    wanted = rules.check_networks(networks)
    with transaction():
        client = _active(actor, client_id)
        before = client.networks
        if wanted == before:
            return client
        client.allowed_networks = " ".join(wanted)
        client.updated_at = utcnow()
        audit.record(
            actor, "client.set_networks", client_id, allowed_networks=wanted, before=before
        )
        outbox.queue_client_event(client, "networks_changed", actor, networks=wanted)
        client_changed(client_id)
    return client


def _active(actor: Actor, client_id: str) -> Client:
    client = find_client(actor, client_id)
    if status_of(client) != "active":
        raise Conflict(f"client {client_id} is {status_of(client)} and cannot be changed")
    return client
