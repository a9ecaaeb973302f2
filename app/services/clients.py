"""Changing clients ("system access tokens"): create, edit, revoke, rotate the secret.

Each change is one function whichever room asks for it (console, API, CLI), and
each writes its audit entry, its revocation event and its email to the outbox
in the same transaction as the change. Reading lives in ``client_queries``;
replacing a key client's keys or a client's allowed networks in ``client_credentials``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, update

from app import metrics
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Client, User
from app.models.types import utcnow
from app.security import client_keys
from app.security import secrets as client_secrets
from app.services import audit, client_credentials, outbox, revocation_feed
from app.services import client_rules as rules
from app.services.actors import Actor
from app.services.client_queries import find_client, list_clients, status_of
from app.services.transaction import client_changed, transaction

GRACE_MAX = 7 * 86400
#: why a leaked-credential report revoked a client (audit detail; its email says so)
EXPOSED = "secret reported as exposed"


@dataclass(frozen=True)
class IssuedSecret:
    """A client with its secret in clear: the one moment the secret exists outside a hash.

    A key client (``private_key_jwt``) has no secret: ``secret`` is None.
    """

    client: Client
    secret: str | None
    previous_valid_until: datetime | None = None


def create_client(
    actor: Actor,
    *,
    name: str,
    scopes: list[str],
    expires_on: str | date,
    description: str | None = None,
    owner_email: str | None = None,
    jwks: str | dict | None = None,
    allowed_networks: list[str] | None = None,
) -> IssuedSecret:
    """Generate a client and its secret; the secret is returned this once and never stored.

    With ``jwks`` (a JWK Set or one PEM public key) the client is a key client: it
    authenticates with ``private_key_jwt`` and has no secret at all. ``allowed_networks``
    (CIDR ranges; none: anywhere) bind where it may authenticate from.

    Checked first: the owner (members create only for themselves), the name, the
    expiry, the scopes, the keys and networks; then, under the owner's lock, the cap
    and the name's uniqueness.
    """
    owner = rules.owner_for(actor, owner_email)
    name = rules.clean_name(name)
    description = rules.clean_description(description)
    expiry = rules.parse_expiry(expires_on)
    granted = rules.check_scopes(actor, owner, scopes)
    key_set = rules.check_key_set(jwks) if jwks is not None else None
    networks = rules.check_networks(allowed_networks or [])
    secret = None if key_set else client_secrets.generate_secret()
    with transaction():
        rules.lock_owner(owner)
        rules.check_cap(owner)
        rules.check_name_free(owner, name)
        client = Client(
            client_id=client_secrets.generate_client_id(),
            secret_hash=client_secrets.hash_secret(secret) if secret else None,
            jwks=key_set,
            allowed_networks=" ".join(networks),
            name=name,
            description=description,
            scope=" ".join(granted),
            expires_on=expiry,
            owner_id=owner.id,
            created_by_id=actor.user.id if actor.user else None,
            created_by=actor.label,
        )
        db.session.add(client)
        db.session.flush()
        audit.record(
            actor,
            "client.create",
            client.client_id,
            owner=owner.email,
            name=name,
            scopes=granted,
            expires_on=expiry.isoformat(),
            token_endpoint_auth_method=client.token_endpoint_auth_method,
            allowed_networks=networks,
            **({"kids": client_keys.key_ids(key_set)} if key_set else {}),
        )
        outbox.queue_client_event(client, "created", actor)
    return IssuedSecret(client, secret)


def revoke_client(actor: Actor, client_id: str, reason: str | None = None) -> tuple[Client, bool]:
    """Revoke for good: the client and every token it ever got. ``(client, already_revoked)``.

    ``reason`` is recorded in the audit log; ``EXPOSED`` (a leaked-credential report)
    also makes the email say the secret was reported as exposed.
    """
    with transaction():
        client = find_client(actor, client_id)
        revoked = client.revoked_at is None and _mark_revoked(actor, client, reason)
    if not revoked:  # revoked before, or by a simultaneous request: show it as it is now
        return find_client(actor, client_id), True
    metrics.revoked("client")
    return client, False


def revoke_all_of(actor: Actor, owner: User) -> int:
    """Revoke every active client of ``owner``; returns how many were revoked.

    Joins the caller's transaction when there is one (``offboarding``).
    """
    with transaction():
        active = list_clients(actor, owner=owner.email, status="active")
        return sum(_mark_revoked(actor, client) for client in active)


def _mark_revoked(actor: Actor, client: Client, reason: str | None = None) -> bool:
    """Revoke in the current transaction; False if another transaction revoked it first."""
    now = utcnow()
    if not _update_if(client, Client.revoked_at.is_(None), revoked_at=now, revoked_by=actor.label):
        return False
    revocation_feed.add_event("client", client.client_id)
    details = {"reason": reason} if reason else {}
    audit.record(actor, "client.revoke", client.client_id, owner=client.owner.email, **details)
    outbox.queue_client_event(client, "revoked_exposed" if reason == EXPOSED else "revoked", actor)
    return True


def rotate_secret(actor: Actor, client_id: str, grace_seconds: int = 0) -> IssuedSecret:
    """A new secret; the old one keeps working for ``grace_seconds`` (0 to 7 days)."""
    if not 0 <= grace_seconds <= GRACE_MAX:
        raise InvalidInput(
            f"grace period must be between 0 and {GRACE_MAX} seconds", {"grace_seconds": "invalid"}
        )
    secret = client_secrets.generate_secret()
    until = utcnow() + timedelta(seconds=grace_seconds) if grace_seconds else None
    with transaction():
        client = find_client(actor, client_id)
        if status_of(client) != "active":
            raise Conflict(
                f"client {client_id} is {status_of(client)}; its secret cannot be rotated"
            )
        if client.jwks is not None:
            raise Conflict(
                f"client {client_id} authenticates with a private key and has no secret; "
                "replace its public keys instead",
                {"grace_seconds": "key_client"},
            )
        rotated = _update_if(
            client,
            (Client.secret_hash == client.secret_hash) & Client.revoked_at.is_(None),
            secret_hash=client_secrets.hash_secret(secret),
            previous_secret_hash=client.secret_hash if until else None,
            previous_secret_valid_until=until,
            previous_secret_last_used_at=None,
        )
        if not rotated:
            raise Conflict(f"client {client_id} changed at the same moment; try again")
        audit.record(actor, "client.rotate_secret", client.client_id, grace_seconds=grace_seconds)
        outbox.queue_client_event(client, "secret_rotated", actor)
    return IssuedSecret(client, secret, until)


def _update_if(client: Client, condition: ColumnElement[bool], **values: Any) -> bool:
    """UPDATE the client's row only while ``condition`` holds (the row lock decides races).

    Two people pressing "revoke" or "rotate" together: the second UPDATE waits for the
    first to commit, then matches no row, so only one of them acts (one email, one secret).
    """
    result = db.session.execute(
        update(Client)
        .where(Client.id == client.id, condition)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(client)
    client_changed(client.client_id)
    return True


def update_client(
    actor: Actor,
    client_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    scopes: list[str] | None = None,
    jwks: str | dict | None = None,
    allowed_networks: list[str] | None = None,
) -> Client:
    """Edit name, description or scopes; narrowing the scopes kills tokens issued before.
    ``jwks`` and ``allowed_networks`` are replaced as ``client_credentials`` does it (with
    their own audit entries and emails), in the same transaction.

    Everything is validated before the row is touched, or the whole edit is rolled
    back, so a refused edit changes nothing.
    """
    with transaction():
        client = find_client(actor, client_id)
        changes = _edits(actor, client, name, description, scopes)
        if changes:
            _apply_edits(actor, client, changes)
        if jwks is not None:
            client_credentials.set_keys(actor, client_id, jwks)
        if allowed_networks is not None:
            client_credentials.set_networks(actor, client_id, allowed_networks)
    return client


def _edits(
    actor: Actor,
    client: Client,
    name: str | None,
    description: str | None,
    scopes: list[str] | None,
) -> dict[str, Any]:
    """The validated changes an edit asks for (only fields that differ)."""
    if status_of(client) != "active":
        raise Conflict(f"client {client.client_id} is {status_of(client)} and cannot be edited")
    changes: dict[str, Any] = {}
    if name is not None and rules.clean_name(name) != client.name:
        rules.check_name_free(client.owner, rules.clean_name(name), exclude=client.id)
        changes["name"] = rules.clean_name(name)
    if description is not None and rules.clean_description(description) != client.description:
        changes["description"] = rules.clean_description(description)
    if scopes is not None:
        granted = rules.check_scopes(actor, client.owner, scopes, kept=client.scopes)
        if granted != client.scopes:
            changes["scopes"] = granted
    return changes


def _apply_edits(actor: Actor, client: Client, changes: dict[str, Any]) -> None:
    """Write validated edits; a narrowing sets ``not_before`` and tells offline verifiers."""
    now = utcnow()
    client.name = changes.get("name", client.name)
    client.description = changes.get("description", client.description)
    granted = changes.get("scopes", client.scopes)
    if set(client.scopes) - set(granted):
        client.not_before = now
        revocation_feed.add_event(
            "client", client.client_id, not_before=now, scope=" ".join(granted)
        )
    client.scope = " ".join(granted)
    client.updated_at = now
    audit.record(actor, "client.update", client.client_id, **changes)
    client_changed(client.client_id)
