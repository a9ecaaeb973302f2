"""The rules a new or edited client must satisfy, checked before anything is written.

Owner: members create only for themselves. Name: required, at most 100
characters, unique among the owner's active clients. Expiry: not in the past,
at most ``GATEHOUSE_MAX_CLIENT_DAYS`` ahead. Scopes: known ones; system scopes
only from admins; members only the services they hold. Cap: at most
``GATEHOUSE_MAX_ACTIVE_CLIENTS`` active clients per owner, even under
concurrent creations. Keys (a key client's public JWK Set) and allowed networks:
well-formed, or refused with a message saying what to give instead.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from sqlalchemy import func, select, update

from app.errors import Conflict, Forbidden, InvalidInput, LimitReached
from app.extensions import db
from app.models import Client, User
from app.models.types import utcnow
from app.security import client_keys, networks
from app.services import catalogue, users, validity
from app.services.actors import Actor
from app.services.days import parse_day, today
from app.services.runtime import settings

NAME_MAX = 100
DESCRIPTION_MAX = 1000
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_expiry(value: str | date) -> date:
    """A valid ``expires_on``: a real date, not in the past, at most the configured days ahead."""
    if isinstance(value, str):
        value = parse_day(value, "expires_on")
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


def _refuse_control_characters(text: str, field: str) -> None:
    """Text is stored and shown verbatim, but control characters (NUL above all) never are."""
    if CONTROL.search(text):
        raise InvalidInput(f"{field} contains control characters", {field: "invalid"})


def clean_name(name: str) -> str:
    _refuse_control_characters(name, "name")
    clean = " ".join(name.split())
    if not clean:
        raise InvalidInput("name is required", {"name": "required"})
    if len(clean) > NAME_MAX:
        raise InvalidInput(f"name must be at most {NAME_MAX} characters", {"name": "too_long"})
    return clean


def clean_description(description: str | None) -> str:
    text = (description or "").strip()
    _refuse_control_characters(
        text.replace("\n", "").replace("\r", "").replace("\t", ""), "description"
    )
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"description must be at most {DESCRIPTION_MAX} characters",
            {"description": "too_long"},
        )
    return text


def check_scopes(
    actor: Actor, owner: User, scopes: list[str], kept: list[str] | tuple[str, ...] = ()
) -> list[str]:
    """The scopes, validated: known, system ones only for admins, members only their own.

    Scopes in ``kept`` (an edit leaving them in place) need no permission: a member may
    narrow a token that an admin gave a scope they could not grant themselves.
    """
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    if not wanted:
        raise InvalidInput("choose at least one service", {"services": "required"})
    known = catalogue.service_keys()
    unknown = [s for s in wanted if s not in known and s not in catalogue.SYSTEM_SCOPES]
    if unknown:
        raise InvalidInput(f"unknown service(s): {', '.join(unknown)}", {"services": "unknown"})
    added = [s for s in wanted if s not in kept]
    if actor.is_admin:
        return wanted
    system = [s for s in added if s in catalogue.SYSTEM_SCOPES]
    if system:
        raise Forbidden(
            f"only administrators may grant {', '.join(system)}", {"services": "forbidden"}
        )
    lacking = [s for s in added if s not in owner.service_keys]
    if lacking:
        raise Forbidden(
            f"you do not hold the service(s) {', '.join(lacking)}", {"services": "forbidden"}
        )
    return wanted


def owner_for(actor: Actor, owner_email: str | None) -> User:
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


def lock_owner(owner: User) -> None:
    """Serialise client creation per owner: a row lock on PostgreSQL, the write lock on SQLite.

    Taken before counting, so concurrent creations can never push an owner past the cap.
    """
    db.session.execute(
        update(User).where(User.id == owner.id).values(client_serial=User.client_serial + 1)
    )


def name_key(name: str) -> str:
    """What names are compared by: two names that read the same are the same name.

    NFKC with the case folded (Unicode's caseless match: fullwidth, mathematical and
    other compatibility forms become plain letters), invisible format characters
    removed (category Cf: zero-width spaces and joiners, the word joiner, the byte
    order mark, soft hyphens, bidi marks), and runs of whitespace made one space.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join("".join(c for c in folded if unicodedata.category(c) != "Cf").split())


def check_name_free(owner: User, name: str, exclude: int | None = None) -> None:
    """Names are unique among the owner's active clients, compared by ``name_key``.

    Compared in Python: SQLite's ``lower()`` folds ASCII only, neither database
    normalises, and an owner has at most a few dozen active clients.
    """
    query = select(Client.name).where(Client.owner_id == owner.id, validity.active_clause(utcnow()))
    if exclude is not None:
        query = query.where(Client.id != exclude)
    if name_key(name) in {name_key(taken) for taken in db.session.scalars(query)}:
        raise Conflict(
            f"{owner.email} already has an active token named '{name}'", {"name": "duplicate"}
        )


def check_cap(owner: User) -> None:
    cap = settings().max_active_clients
    count = db.session.scalar(
        select(func.count())
        .select_from(Client)
        .where(Client.owner_id == owner.id, validity.active_clause(utcnow()))
    )
    if count >= cap:
        raise LimitReached(
            f"{owner.email} already has {count} active tokens, the most allowed is {cap}: "
            "revoke one first",
            {"owner": "limit_reached"},
        )


def check_key_set(jwks: str | dict) -> str:
    """A key client's public keys as stored (normalised JWK Set JSON)."""
    try:
        return client_keys.parse_key_set(jwks)
    except client_keys.KeySetError as exc:
        raise InvalidInput(str(exc), {"jwks": "invalid"}) from None


def check_networks(items: list[str]) -> list[str]:
    """Allowed networks as stored (normalised CIDR strings); empty: anywhere."""
    if isinstance(items, str) or not all(isinstance(item, str) for item in items):
        raise InvalidInput(
            "allowed_networks must be a list of CIDR strings", {"allowed_networks": "invalid"}
        )
    try:
        return networks.parse_networks(items)
    except networks.NetworkError as exc:
        raise InvalidInput(str(exc), {"allowed_networks": "invalid"}) from None
