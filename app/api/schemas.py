"""The management API's request and response models: validation and OpenAPI from one place.

Each request model is what ``parse_body``/``parse_query`` validate against and what the
OpenAPI document describes, so the two cannot drift apart. A new field is one line
here (and, for a client, one keyword of the service function it reaches).

Patterns use explicit character classes only: ``\\s``, ``\\w`` and ``\\d`` mean
different things in ECMA-262 (what the document's readers run), Python and Rust
(what pydantic runs). Text refuses control characters (PostgreSQL cannot store NUL),
and a name needs one character that Python's ``str.split`` does not take for space,
since the services collapse whitespace before they check a name is not empty.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from app.api.validation import JSON_INT, Body, Query
from app.security.client_keys import MAX_KEYS
from app.security.networks import MAX_NETWORKS
from app.security.passwords import MIN_LENGTH
from app.services.client_rules import DESCRIPTION_MAX, NAME_MAX
from app.services.clients import GRACE_MAX
from app.services.paging import PER_PAGE_MAX

#: C0 controls, DEL and C1 controls
_CONTROL = r"\x00-\x1f\x7f-\x9f"
#: every character Python's str.isspace() accepts, besides the controls above
_SPACE = r"\x20\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TEXT = rf"[^{_CONTROL}]"
_VISIBLE = rf"[^{_CONTROL}{_SPACE}]"
#: in an address: no space, no '@', and no U+0130, which lower-casing makes two characters
_ADDRESS = rf"[^@{_CONTROL}{_SPACE}\u0130]"


def _label(max_length: int) -> type[str]:
    """Text of 1..``max_length`` characters with at least one visible one."""
    pattern = rf"^{_TEXT}*{_VISIBLE}{_TEXT}*$"
    return Annotated[  # type: ignore[return-value]
        str, StringConstraints(min_length=1, max_length=max_length, pattern=pattern)
    ]


def _text(max_length: int, multiline: bool = False) -> type[str]:
    """Text of at most ``max_length`` characters, without control characters but (when
    ``multiline``) tab, line feed and carriage return."""
    control = (
        _CONTROL.replace(r"\x00-\x1f", r"\x00-\x08\x0b\x0c\x0e-\x1f") if multiline else _CONTROL
    )
    return Annotated[  # type: ignore[return-value]
        str, StringConstraints(max_length=max_length, pattern=rf"^[^{control}]*$")
    ]


Name = _label(NAME_MAX)
PersonName = _label(200)
Description = _text(DESCRIPTION_MAX, multiline=True)
Search = _text(100)
Email = Annotated[
    str,
    StringConstraints(
        max_length=254, pattern=rf"^{_ADDRESS}{{1,64}}@(?:{_ADDRESS}+\.{_ADDRESS}+|localhost)$"
    ),
]
ServiceKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._:-]{0,63}$")]
Services = Annotated[list[ServiceKey], Field(min_length=1, max_length=64)]
#: an IPv4 or IPv6 address or CIDR block; which ones are possible the service decides (422)
Network = Annotated[
    str, StringConstraints(min_length=1, max_length=49, pattern=r"^[0-9A-Fa-f.:/]+$")
]
Networks = Annotated[
    list[Network],
    Field(
        max_length=MAX_NETWORKS,
        description="CIDR blocks the client may authenticate from (empty: anywhere)",
    ),
]
Page = Annotated[int, Field(ge=1, le=100_000, description="1 is the first page")]
PerPage = Annotated[int, Field(ge=1, le=PER_PAGE_MAX, description=f"at most {PER_PAGE_MAX}")]


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


def optional(description: str = "") -> Any:
    """An optional field that may be left out but not sent as ``null``.

    ``None`` is only the "left out" marker (pydantic does not validate defaults); the
    document says nothing about it.
    """
    return Field(default=None, description=description or None, json_schema_extra=_no_default)


# -- clients -----------------------------------------------------------------------
class JwkSet(Body):
    """A JWK Set (RFC 7517 §5) of public keys: RSA of 2048 bits or more, EC P-256 or
    Ed25519. A private or symmetric key, a short key or anything else is refused (422)."""

    keys: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_KEYS)]


class ClientCreate(Body):
    """A new client. Members create only for themselves, with services they hold."""

    name: Name = Field(description="unique among the owner's active clients, ignoring case")
    description: Description = ""
    expires_on: date = Field(
        description="YYYY-MM-DD, from today to GATEHOUSE_MAX_CLIENT_DAYS ahead"
    )
    services: Services = Field(description="service keys; admins may add introspect and manage")
    owner: Email = optional("the owner's email (admins only; default: the caller's owner)")
    jwks: JwkSet = optional(
        "public keys: the client authenticates with private_key_jwt and has no secret"
    )
    allowed_networks: Networks = optional(
        "CIDR blocks the client may authenticate from (default: anywhere)"
    )


class ClientUpdate(Body):
    """Changes to a client; a field left out is left as it is."""

    name: Name = optional()
    description: Description = optional()
    services: Services = optional("the new set; removing one invalidates tokens issued before")
    jwks: JwkSet = optional(
        "a key client's new public keys (a secret client: 409); the old keys stop at once"
    )
    allowed_networks: Networks = optional("the new set; an empty list allows anywhere")


class SecretRotation(Body):
    grace_seconds: Annotated[int, Field(ge=0, le=GRACE_MAX), JSON_INT] = Field(
        0, description="how long the old secret keeps working (at most 7 days)"
    )


class ClientsQuery(Query):
    owner: Email = optional("only this owner's clients (members: only themselves)")
    status: Literal["active", "inactive", "all"] = "active"
    q: Search = optional("text in the name or description")
    page: Page = 1
    per_page: PerPage = 20


# -- users, services, audit -------------------------------------------------------
class UserCreate(Body):
    email: Email
    name: PersonName
    role: Literal["admin", "member"] = "member"
    services: Annotated[list[ServiceKey], Field(max_length=64)] = Field(
        default_factory=list, description="catalogue services the person may grant"
    )
    password: Annotated[str, StringConstraints(min_length=MIN_LENGTH, max_length=1024)] = optional(
        "without one the person cannot sign in until an administrator sets one"
    )


class PageQuery(Query):
    page: Page = 1
    per_page: PerPage = 50


class ServicesQuery(PageQuery):
    q: Search = optional("text in the key or name")


class AuditQuery(PageQuery):
    actor: Search = optional("text in the actor: an email, client:<client_id> or cli")
    target: Search = optional("text in the target: a client id or an email")
    since: date = optional("first day, YYYY-MM-DD (UTC)")
    until: date = optional("last day, YYYY-MM-DD (UTC)")
