"""The management API's response models, and how each is made from a domain object.

No model here has a field for a secret's hash; the only secrets that ever leave are
the ones ``ClientCreated`` and ``SecretRotated`` carry, once. Timestamps are UTC and
written with ``Z`` (RFC 3339); days as ``YYYY-MM-DD``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.models import AuditEvent, Client, Service, User
from app.services import client_queries
from app.services.clients import IssuedSecret
from app.services.paging import Page


def utc(moment: datetime) -> datetime:
    """A stored (naive UTC) timestamp as an aware one, to the second."""
    return moment.replace(tzinfo=UTC, microsecond=0)


class ClientOut(BaseModel):
    """A client as its owner and admins see it; never its secret."""

    client_id: str
    name: str
    description: str
    owner: str = Field(description="the owner's email")
    scopes: list[str]
    expires_on: date = Field(description="valid through the end of this day (UTC)")
    status: Literal["active", "expired", "revoked"]
    created_at: datetime
    created_by: str = Field(description="an email, client:<client_id> or cli")
    last_used_at: datetime | None = Field(description="last authentication (to the minute)")
    last_used_ip: str | None = Field(description="the address it last authenticated from")
    token_endpoint_auth_method: Literal["client_secret_basic", "private_key_jwt"]
    jwks: dict[str, Any] | None = Field(description="a key client's public keys (JWK Set)")
    allowed_networks: list[str] = Field(
        description="where it may authenticate from (empty: anywhere)"
    )
    previous_secret_valid_until: datetime | None = Field(
        description="the secret replaced by a rotation works until then"
    )
    previous_secret_last_used_at: datetime | None = Field(
        description="when that replaced secret was last used"
    )
    revoked_at: datetime | None
    revoked_by: str | None


class ClientCreated(ClientOut):
    client_secret: str | None = Field(
        description="shown this once; only a hash is kept (null: a key client has none)"
    )


class ClientRevoked(ClientOut):
    already_revoked: bool = Field(description="true when it was revoked before this call")


class SecretRotated(BaseModel):
    client_id: str
    client_secret: str = Field(description="shown this once; only a hash is kept")
    previous_secret_valid_until: datetime | None = Field(
        description="the old secret works until then (null: it stopped now)"
    )


class ServiceOut(BaseModel):
    key: str = Field(description="the OAuth scope string")
    name: str


class UserOut(BaseModel):
    email: str
    name: str
    role: Literal["admin", "member"]
    active: bool
    services: list[str]
    created_at: datetime


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="an email, client:<client_id>, cli or gatehouse")
    action: str
    target: str | None
    address: str | None
    details: dict[str, Any]


class Paged(BaseModel):
    """A page of a list; ask for ``next_page`` until it is null."""

    page: int
    per_page: int
    total: int = Field(description="items in the whole list")
    next_page: int | None


class ClientPage(Paged):
    items: list[ClientOut]


class ServicePage(Paged):
    items: list[ServiceOut]


class UserPage(Paged):
    items: list[UserOut]


class AuditEventPage(Paged):
    items: list[AuditEventOut]


def client_out(client: Client) -> ClientOut:
    return ClientOut.model_validate(client_queries.describe(client))


def client_created(issued: IssuedSecret) -> ClientCreated:
    described = client_queries.describe(issued.client)
    return ClientCreated.model_validate({**described, "client_secret": issued.secret})


def secret_rotated(issued: IssuedSecret) -> SecretRotated:
    until = issued.previous_valid_until
    return SecretRotated(
        client_id=issued.client.client_id,
        client_secret=issued.secret,
        previous_secret_valid_until=utc(until) if until else None,
    )


def service_out(service: Service) -> ServiceOut:
    return ServiceOut(key=service.key, name=service.name)


def user_out(user: User) -> UserOut:
    return UserOut(
        email=user.email,
        name=user.name,
        role=user.role,  # type: ignore[arg-type]
        active=user.active,
        services=sorted(user.service_keys),
        created_at=utc(user.created_at),
    )


def audit_event_out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        id=event.id,
        at=utc(event.at),
        actor=event.actor,
        action=event.action,
        target=event.target,
        address=event.address,
        details=event.details or {},
    )


def page_of(model: type[Paged], page: Page[Any], convert: Any) -> Any:
    """``model`` (``ClientPage`` …) for one page of domain objects, each made by ``convert``."""
    last = -(-page.total // page.per_page)
    return model(
        items=[convert(item) for item in page.items],  # type: ignore[call-arg]
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        next_page=page.page + 1 if page.page < last else None,
    )
