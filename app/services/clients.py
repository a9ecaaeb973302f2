"""Clients ("system access tokens"): create, list, find, edit, revoke, rotate.

Every change is one function whichever room asks for it, and each writes its
audit entry (and revocation event) in the same transaction as the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden, InvalidInput, LimitReached, NotFound
from app.extensions import db
from app.models import Client, RevocationEvent, User
from app.models.types import utcnow
from app.security import secrets as client_secrets
from app.services import audit, catalogue, outbox, users
from app.services.actors import Actor
from app.services.runtime import runtime, settings

NAME_MAX = 100
DESCRIPTION_MAX = 1000
GRACE_MAX = 7 * 86400
STATUSES = ("active", "inactive", "all")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class IssuedSecret:
    """A client with its secret in clear: the one moment the secret exists outside a hash."""

    client: Client
    secret: str
    previous_valid_until: datetime | None = None


# -- reading ------------------------------------------------------------------
def today() -> date:
    return utcnow().date()


def status_of(client: Client, on: date | None = None) -> str:
    """``active``, ``expired`` (past ``expires_on``) or ``revoked``."""
    if client.revoked_at is not None:
        return "revoked"
    return "expired" if client.expires_on < (on or today()) else "active"


def _active_clause(on: date) -> ColumnElement[bool]:
    return and_(Client.revoked_at.is_(None), Client.expires_on >= on)


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
    if status not in STATUSES:
        raise InvalidInput("status must be active, inactive or all", {"status": "invalid"})
    query = select(Client).order_by(Client.created_at.desc(), Client.id.desc())
    visible = _visible_to(actor)
    if visible is not None:
        query = query.where(visible)
    if owner:
        query = query.where(Client.owner_id == users.get_by_email(owner).id)
    active = _active_clause(today())
    if status == "active":
        query = query.where(active)
    elif status == "inactive":
        query = query.where(~active)
    if q and q.strip():
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            or_(func.lower(Client.name).like(pattern), func.lower(Client.description).like(pattern))
        )
    return list(db.session.scalars(query))


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


# -- validation ---------------------------------------------------------------
def parse_expiry(value: str | date) -> date:
    """A valid ``expires_on``: a real date, not in the past, at most the configured days ahead."""
    if isinstance(value, str):
        try:
            if not ISO_DATE.match(value.strip()):
                raise ValueError(value)
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"'{value}' is not a valid date (use YYYY-MM-DD)", {"expires_on": "invalid"}
            ) from None
    first, last = today(), today() + timedelta(days=settings().max_client_days)
    if value < first:
        raise InvalidInput(
            f"expiry date {value.isoformat()} is in the past", {"expires_on": "past"}
        )
    if value > last:
        raise InvalidInput(
            f"expiry date {value.isoformat()} is too far ahead: the latest allowed is "
            f"{last.isoformat()}",
            {"expires_on": "too_far"},
        )
    return value


def _clean_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise InvalidInput("name is required", {"name": "required"})
    if len(clean) > NAME_MAX:
        raise InvalidInput(f"name must be at most {NAME_MAX} characters", {"name": "too_long"})
    return clean


def _clean_description(description: str | None) -> str:
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"description must be at most {DESCRIPTION_MAX} characters",
            {"description": "too_long"},
        )
    return text


def _check_scopes(actor: Actor, owner: User, scopes: list[str]) -> list[str]:
    """The scopes, validated: known, system ones only for admins, members only their own."""
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    if not wanted:
        raise InvalidInput("choose at least one service", {"services": "required"})
    known = catalogue.service_keys()
    unknown = [s for s in wanted if s not in known and s not in catalogue.SYSTEM_SCOPES]
    if unknown:
        raise InvalidInput(f"unknown service(s): {', '.join(unknown)}", {"services": "unknown"})
    if actor.is_admin:
        return wanted
    system = [s for s in wanted if s in catalogue.SYSTEM_SCOPES]
    if system:
        raise Forbidden(
            f"only administrators may grant {', '.join(system)}", {"services": "forbidden"}
        )
    lacking = [s for s in wanted if s not in owner.service_keys]
    if lacking:
        raise Forbidden(
            f"you do not hold the service(s) {', '.join(lacking)}", {"services": "forbidden"}
        )
    return wanted


def _owner_for(actor: Actor, owner_email: str | None) -> User:
    if not actor.is_admin:
        if actor.user is None:
            raise Forbidden("no owner")
        if owner_email and users.normalise_email(owner_email) != actor.user.email:
            raise Forbidden("members create tokens only for themselves", {"owner": "forbidden"})
        return actor.user
    if not owner_email:
        if actor.user is None:
            raise InvalidInput("owner is required", {"owner": "required"})
        return actor.user
    owner = users.get_by_email(owner_email)
    if not owner.active:
        raise InvalidInput(f"user {owner.email} is deactivated", {"owner": "inactive"})
    return owner


def _lock_owner(owner: User) -> None:
    """Serialise client creation per owner: a row lock on PostgreSQL, the write lock on SQLite.

    Taken before counting, so concurrent creations can never push an owner past the cap.
    """
    db.session.execute(
        update(User).where(User.id == owner.id).values(client_serial=User.client_serial + 1)
    )


def _check_name_free(owner: User, name: str, exclude: int | None = None) -> None:
    query = select(Client.id).where(
        Client.owner_id == owner.id,
        _active_clause(today()),
        func.lower(Client.name) == name.lower(),
    )
    if exclude is not None:
        query = query.where(Client.id != exclude)
    if db.session.scalars(query).first() is not None:
        raise Conflict(
            f"{owner.email} already has an active token named '{name}'", {"name": "duplicate"}
        )


def _check_cap(owner: User) -> None:
    cap = settings().max_active_clients
    count = db.session.scalar(
        select(func.count())
        .select_from(Client)
        .where(Client.owner_id == owner.id, _active_clause(today()))
    )
    if count >= cap:
        raise LimitReached(
            f"{owner.email} already has {count} active tokens, the most allowed is {cap}: "
            "revoke one first",
            {"owner": "limit_reached"},
        )


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
    owner = _owner_for(actor, owner_email)
    name = _clean_name(name)
    description = _clean_description(description)
    expiry = parse_expiry(expires_on)
    granted = _check_scopes(actor, owner, scopes)
    try:
        _lock_owner(owner)
        _check_cap(owner)
        _check_name_free(owner, name)
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
    if client.revoked_at is not None:
        return client, True
    now = utcnow()
    client.revoked_at, client.revoked_by, client.updated_at = now, actor.label, now
    db.session.add(RevocationEvent(type="client", client_id=client.client_id, revoked_at=now))
    audit.record(actor, "client.revoke", client.client_id, owner=client.owner.email)
    outbox.queue_client_event(client, "revoked", actor)
    _commit_and_forget(client)
    return client, False


def rotate_secret(actor: Actor, client_id: str, grace_seconds: int = 0) -> IssuedSecret:
    """A new secret; the old one keeps working for ``grace_seconds`` (0 to 7 days)."""
    if not 0 <= grace_seconds <= GRACE_MAX:
        raise InvalidInput(
            f"grace period must be between 0 and {GRACE_MAX} seconds", {"grace_seconds": "invalid"}
        )
    client = find_client(actor, client_id)
    if status_of(client) != "active":
        raise Conflict(f"client {client_id} is {status_of(client)}; its secret cannot be rotated")
    now = utcnow()
    secret = client_secrets.generate_secret()
    until = now + timedelta(seconds=grace_seconds) if grace_seconds else None
    client.previous_secret_hash = client.secret_hash if until else None
    client.previous_secret_valid_until = until
    client.secret_hash = client_secrets.hash_secret(secret)
    client.updated_at = now
    audit.record(actor, "client.rotate_secret", client.client_id, grace_seconds=grace_seconds)
    outbox.queue_client_event(client, "secret_rotated", actor)
    _commit_and_forget(client)
    return IssuedSecret(client, secret, until)


def update_client(
    actor: Actor,
    client_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    scopes: list[str] | None = None,
) -> Client:
    """Edit name, description or scopes (SPEC rule 7: narrowing kills older tokens)."""
    client = find_client(actor, client_id)
    if status_of(client) != "active":
        raise Conflict(f"client {client_id} is {status_of(client)} and cannot be edited")
    changes: dict[str, Any] = {}
    now = utcnow()
    if name is not None and _clean_name(name) != client.name:
        _check_name_free(client.owner, _clean_name(name), exclude=client.id)
        changes["name"] = client.name = _clean_name(name)
    if description is not None and _clean_description(description) != client.description:
        changes["description"] = client.description = _clean_description(description)
    if scopes is not None:
        granted = _check_scopes(actor, client.owner, scopes)
        removed = set(client.scopes) - set(granted)
        if granted != client.scopes:
            changes["scopes"] = granted
            client.scope = " ".join(granted)
        if removed:
            client.not_before = now
            db.session.add(
                RevocationEvent(
                    type="client", client_id=client.client_id, revoked_at=now, not_before=now
                )
            )
    if changes:
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


# -- paged listing for the console (appended by issue 3) ------------------------
# These imports belong at the top; they sit here so the block above stays untouched
# while others edit it. ``list_clients`` can become ``list(db.session.scalars(client_query(...)))``.
from sqlalchemy import Select  # noqa: E402

from app.services.paging import Page, paginate  # noqa: E402


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
    active = _active_clause(today())
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
