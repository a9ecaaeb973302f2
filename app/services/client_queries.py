"""Reading clients: find one, list and page them, describe them for the CLI and the API.

Every read is filtered by who asks: members see only their own clients, and
another user's client is ``NotFound`` exactly like one that does not exist.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select

from app.errors import Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import Client, User
from app.models.types import utcnow
from app.security import secrets as client_secrets
from app.services import users, validity
from app.services.actors import Actor
from app.services.paging import Page, paginate

STATUSES = ("active", "inactive", "all")


def status_of(client: Client, now: datetime | None = None) -> str:
    """``active``, ``expired`` (past ``expires_on``) or ``revoked``."""
    return validity.status(client.revoked_at is not None, client.expires_on, now or utcnow())


def _visible_to(actor: Actor) -> ColumnElement[bool] | None:
    """Members see only their own clients; admins (and the CLI) see all."""
    if actor.is_admin:
        return None
    return Client.owner_id == (actor.user.id if actor.user else -1)


def find_client(actor: Actor, client_id: str) -> Client:
    """One client the actor may see; anything else (even one that exists) is ``NotFound``.

    An id that cannot be one of ours is not looked up (nor sent to the database).
    """
    if not client_secrets.is_plausible_client_id(client_id):
        raise NotFound(f"no client {client_id}")
    query = select(Client).where(Client.client_id == client_id)
    visible = _visible_to(actor)
    if visible is not None:
        query = query.where(visible)
    client = db.session.scalars(query).first()
    if client is None:
        raise NotFound(f"no client {client_id}")
    return client


def active_owner(client_id: str) -> User | None:
    """The client's owner while that person is active; None for an unknown client or a
    deactivated owner (whose clients then act for no one)."""
    return db.session.scalars(
        select(User)
        .join(Client, Client.owner_id == User.id)
        .where(Client.client_id == client_id, User.active.is_(True))
    ).first()


def client_query(
    actor: Actor, owner: str | None = None, status: str = "active", q: str | None = None
) -> Select[tuple[Client]]:
    """Clients visible to the actor, filtered by owner, status and text, newest first.

    A member may name only themselves as the owner: asking for another user's clients
    is refused before any lookup, so the answer never tells whether that user exists.
    """
    if status not in STATUSES:
        raise InvalidInput("status must be active, inactive or all", {"status": "invalid"})
    if owner and not actor.is_admin:
        mine = actor.user.email if actor.user else None
        if users.normalise_email(owner) != mine:
            raise Forbidden("members see only their own clients", {"owner": "forbidden"})
    query = select(Client).order_by(Client.created_at.desc(), Client.id.desc())
    visible = _visible_to(actor)
    if visible is not None:
        query = query.where(visible)
    if owner:
        query = query.where(Client.owner_id == users.get_by_email(owner).id)
    active = validity.active_clause(utcnow())
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


def list_clients(
    actor: Actor, owner: str | None = None, status: str = "active", q: str | None = None
) -> list[Client]:
    """Every client ``client_query`` selects."""
    return list(db.session.scalars(client_query(actor, owner, status, q)))


def page_clients(
    actor: Actor,
    *,
    owner: str | None = None,
    status: str = "active",
    q: str | None = None,
    page: int = 1,
    per_page: int = 20,
    clamp: bool = True,
) -> Page[Client]:
    """One page of the clients ``list_clients`` would return (``clamp``: see ``paginate``)."""
    return paginate(client_query(actor, owner, status, q), page, per_page, clamp)


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
        "created_at": iso(client.created_at),
        "created_by": client.created_by,
        "last_used_at": iso(client.last_used_at),
        "last_used_ip": client.last_used_ip,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "jwks": json.loads(client.jwks) if client.jwks is not None else None,
        "allowed_networks": client.networks,
        "previous_secret_valid_until": iso(client.previous_secret_valid_until),
        "previous_secret_last_used_at": iso(client.previous_secret_last_used_at),
        "revoked_at": iso(client.revoked_at),
        "revoked_by": client.revoked_by,
    }


def iso(moment: datetime | None) -> str | None:
    """``2026-12-02T18:45:06Z`` (stored timestamps are naive UTC), or None."""
    return moment.replace(microsecond=0).isoformat() + "Z" if moment else None
