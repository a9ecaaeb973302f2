"""Clients ("system access tokens"): create, list, find, edit, revoke, rotate.

Every change is one function whichever room asks for it, and each writes its
audit entry (and revocation event) in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import Client, User
from app.models.types import utcnow
from app.security import secrets as client_secrets
from app.services import audit, outbox, revocation_feed, users
from app.services import client_rules as rules
from app.services.actors import Actor
from app.services.days import today
from app.services.paging import Page, paginate
from app.services.runtime import runtime

GRACE_MAX = 7 * 86400
STATUSES = ("active", "inactive", "all")


@dataclass(frozen=True)
class IssuedSecret:
    """A client with its secret in clear: the one moment the secret exists outside a hash."""

    client: Client
    secret: str
    previous_valid_until: datetime | None = None


# -- reading ------------------------------------------------------------------


def status_of(client: Client, on: date | None = None) -> str:
    """``active``, ``expired`` (past ``expires_on``) or ``revoked``."""
    if client.revoked_at is not None:
        return "revoked"
    return "expired" if client.expires_on < (on or today()) else "active"


def _visible_to(actor: Actor) -> ColumnElement[bool] | None:
    """Members see only their own clients (SPEC rule 4)."""
    if actor.is_admin:
        return None
    return Client.owner_id == (actor.user.id if actor.user else -1)


def find_client(actor: Actor, client_id: str) -> Client:
    """One client the actor may see; anything else (even one that exists) is ``NotFound``."""
    query = select(Client).where(Client.client_id == client_id)
    visible = _visible_to(actor)
    if visible is not None:
        query = query.where(visible)
    client = db.session.scalars(query).first()
    if client is None:
        raise NotFound(f"no client {client_id}")
    return client


def list_clients(
    actor: Actor, owner: str | None = None, status: str = "active", q: str | None = None
) -> list[Client]:
    """Clients the actor may see, newest first, filtered by owner, status and text."""
    return list(db.session.scalars(client_query(actor, owner, status, q)))


def describe(client: Client) -> dict[str, Any]:
    """The public description of a client (never its secret), as the CLI and API print it."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "description": client.description,
        "owner": client.owner.email,
        "scopes": client.scopes,
        "expires_on": client.expires_on.isoformat(),
        "status": status_of(client),
        "created_at": _iso(client.created_at),
        "created_by": client.created_by,
        "last_used_at": _iso(client.last_used_at),
        "revoked_at": _iso(client.revoked_at),
        "revoked_by": client.revoked_by,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(microsecond=0).isoformat() + "Z" if moment else None


# -- changes ------------------------------------------------------------------
def create_client(
    actor: Actor,
    *,
    name: str,
    scopes: list[str],
    expires_on: str | date,
    description: str | None = None,
    owner_email: str | None = None,
) -> IssuedSecret:
    """Generate a client and its secret (SPEC rules 1-4); the secret is returned once."""
    owner = rules.owner_for(actor, owner_email)
    name = rules.clean_name(name)
    description = rules.clean_description(description)
    expiry = rules.parse_expiry(expires_on)
    granted = rules.check_scopes(actor, owner, scopes)
    try:
        rules.lock_owner(owner)
        rules.check_cap(owner)
        rules.check_name_free(owner, name)
        secret = client_secrets.generate_secret()
        client = Client(
            client_id=client_secrets.generate_client_id(),
            secret_hash=client_secrets.hash_secret(secret),
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
        )
        outbox.queue_client_event(client, "created", actor)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return IssuedSecret(client, secret)


def revoke_client(actor: Actor, client_id: str) -> tuple[Client, bool]:
    """Revoke for good (SPEC rule 6). Returns ``(client, was_already_revoked)``."""
    client = find_client(actor, client_id)
    if client.revoked_at is not None or not _mark_revoked(actor, client):
        db.session.rollback()
        return find_client(actor, client_id), True
    _commit_and_forget(client)
    return client, False


def revoke_all_of(actor: Actor, owner: User) -> int:
    """Revoke every active client of ``owner`` and commit, with the caller's pending changes.

    One transaction: deactivating a user and revoking their tokens land together.
    """
    revoked = [
        client
        for client in list_clients(actor, owner=owner.email, status="active")
        if _mark_revoked(actor, client)
    ]
    db.session.commit()
    for client in revoked:
        runtime().clients.forget(client.client_id)
    return len(revoked)


def _mark_revoked(actor: Actor, client: Client) -> bool:
    """Revoke in the current transaction; False if another transaction revoked it first."""
    now = utcnow()
    if not _update_if(client, Client.revoked_at.is_(None), revoked_at=now, revoked_by=actor.label):
        return False
    revocation_feed.add_event("client", client.client_id)
    audit.record(actor, "client.revoke", client.client_id, owner=client.owner.email)
    outbox.queue_client_event(client, "revoked", actor)
    return True


def rotate_secret(actor: Actor, client_id: str, grace_seconds: int = 0) -> IssuedSecret:
    """A new secret; the old one keeps working for ``grace_seconds`` (0 to 7 days)."""
    if not 0 <= grace_seconds <= GRACE_MAX:
        raise InvalidInput(
            f"grace period must be between 0 and {GRACE_MAX} seconds", {"grace_seconds": "invalid"}
        )
    client = find_client(actor, client_id)
    if status_of(client) != "active":
        raise Conflict(f"client {client_id} is {status_of(client)}; its secret cannot be rotated")
    secret = client_secrets.generate_secret()
    until = utcnow() + timedelta(seconds=grace_seconds) if grace_seconds else None
    rotated = _update_if(
        client,
        (Client.secret_hash == client.secret_hash) & Client.revoked_at.is_(None),
        secret_hash=client_secrets.hash_secret(secret),
        previous_secret_hash=client.secret_hash if until else None,
        previous_secret_valid_until=until,
    )
    if not rotated:
        db.session.rollback()
        raise Conflict(f"client {client_id} changed at the same moment; try again")
    audit.record(actor, "client.rotate_secret", client.client_id, grace_seconds=grace_seconds)
    outbox.queue_client_event(client, "secret_rotated", actor)
    _commit_and_forget(client)
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
    return True


def update_client(
    actor: Actor,
    client_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    scopes: list[str] | None = None,
) -> Client:
    """Edit name, description or scopes (SPEC rule 7: narrowing kills older tokens).

    Everything is validated before the row is touched, so a refused edit changes nothing.
    """
    client = find_client(actor, client_id)
    if status_of(client) != "active":
        raise Conflict(f"client {client_id} is {status_of(client)} and cannot be edited")
    changes: dict[str, Any] = {}
    if name is not None and rules.clean_name(name) != client.name:
        rules.check_name_free(client.owner, rules.clean_name(name), exclude=client.id)
        changes["name"] = rules.clean_name(name)
    if description is not None and rules.clean_description(description) != client.description:
        changes["description"] = rules.clean_description(description)
    granted = (
        rules.check_scopes(actor, client.owner, scopes, kept=client.scopes)
        if scopes is not None
        else client.scopes
    )
    if granted != client.scopes:
        changes["scopes"] = granted
    if not changes:
        return client
    now = utcnow()
    client.name = changes.get("name", client.name)
    client.description = changes.get("description", client.description)
    if set(client.scopes) - set(granted):
        client.not_before = now
        revocation_feed.add_event(
            "client", client.client_id, not_before=now, scope=" ".join(granted)
        )
    client.scope = " ".join(granted)
    client.updated_at = now
    audit.record(actor, "client.update", client.client_id, **changes)
    _commit_and_forget(client)
    return client


def _commit_and_forget(client: Client) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("the client changed concurrently; try again") from None
    runtime().clients.forget(client.client_id)


# -- paged listing (console) ----------------------------------------------------
def client_query(
    actor: Actor, owner: str | None = None, status: str = "active", q: str | None = None
) -> Select[tuple[Client]]:
    """The query behind ``list_clients``: visible to the actor, filtered, newest first."""
    if status not in STATUSES:
        raise InvalidInput("status must be active, inactive or all", {"status": "invalid"})
    query = select(Client).order_by(Client.created_at.desc(), Client.id.desc())
    visible = _visible_to(actor)
    if visible is not None:
        query = query.where(visible)
    if owner:
        query = query.where(Client.owner_id == users.get_by_email(owner).id)
    active = rules.active_clause(today())
    if status == "active":
        query = query.where(active)
    elif status == "inactive":
        query = query.where(~active)
    if q and q.strip():
        pattern = q.strip().lower()
        query = query.where(
            or_(
                func.lower(Client.name).contains(pattern, autoescape=True),
                func.lower(Client.description).contains(pattern, autoescape=True),
            )
        )
    return query


def page_clients(
    actor: Actor,
    *,
    owner: str | None = None,
    status: str = "active",
    q: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Client]:
    """One page of the clients ``list_clients`` would return."""
    return paginate(client_query(actor, owner, status, q), page, per_page)
