"""Clients ("system access tokens"): list, generate, read, edit, revoke, rotate the secret.

Each change is the same service function the console and the CLI call, so it
writes its audit entry (actor ``client:<client_id>``, with the caller's address)
and queues its email in the same transaction. Another user's client is a 404,
exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.api.blueprint import api
from app.api.replies import (
    ClientCreated,
    ClientOut,
    ClientPage,
    ClientRevoked,
    SecretRotated,
    client_created,
    client_out,
    page_of,
    secret_rotated,
)
from app.api.schemas import ClientCreate, ClientsQuery, ClientUpdate, SecretRotation
from app.services import client_queries, clients
from app.services.actors import Actor

#: request fields whose service keyword has another name; every other field keeps its own
KEYWORDS = {"services": "scopes", "owner": "owner_email"}
#: the operations a new client's ``client_id`` leads to (OpenAPI links)
FOLLOW = {
    name: "/client_id" for name in ("get_client", "update_client", "revoke_client", "rotate_secret")
}


def _keywords(body: BaseModel) -> dict[str, Any]:
    """The fields the caller sent, named as the service functions name them."""
    return {KEYWORDS.get(k, k): v for k, v in body.model_dump(exclude_unset=True).items()}


@api.operation("GET", "/clients", tag="clients", query=ClientsQuery, result=ClientPage)
def list_clients(caller: Actor, query: ClientsQuery) -> ClientPage:
    """Clients the caller may see, newest first

    Members see their own clients; administrators see everyone's, or one owner's with
    `owner`. `status` is `active` (the default), `inactive` (expired or revoked) or `all`.
    """
    page = client_queries.page_clients(
        caller,
        owner=query.owner,
        status=query.status,
        q=query.q,
        page=query.page,
        per_page=query.per_page,
        clamp=False,
    )
    return page_of(ClientPage, page, client_out)


@api.operation(
    "POST",
    "/clients",
    tag="clients",
    status=201,
    body=ClientCreate,
    result=ClientCreated,
    errors=(409,),
    links=FOLLOW,
)
def create_client(caller: Actor, body: ClientCreate) -> ClientCreated:
    """Generate a client and its secret

    The secret is in this answer only: Gatehouse keeps a hash. With `jwks` the client
    authenticates with `private_key_jwt` (RFC 7523) and has no secret (`null`). Members
    generate clients for themselves with services they hold; administrators for anyone
    (`owner`), with any service, `introspect` and `manage` included. An owner holds at most
    GATEHOUSE_MAX_ACTIVE_CLIENTS active clients (409).
    """
    return client_created(clients.create_client(caller, **_keywords(body)))


@api.operation("GET", "/clients/<client_id>", tag="clients", result=ClientOut)
def get_client(caller: Actor, client_id: str) -> ClientOut:
    """One client (never its secret)"""
    return client_out(client_queries.find_client(caller, client_id))


@api.operation(
    "PATCH",
    "/clients/<client_id>",
    tag="clients",
    body=ClientUpdate,
    result=ClientOut,
    errors=(409,),
)
def update_client(caller: Actor, client_id: str, body: ClientUpdate) -> ClientOut:
    """Edit an active client's name, description, services, keys or networks

    Fields left out stay as they are; any other field is refused (422). Removing a
    service invalidates the tokens issued before. Replaced keys or networks count within
    a second everywhere; each replacement is audited and mailed to the owner.
    """
    return client_out(clients.update_client(caller, client_id, **_keywords(body)))


@api.operation("POST", "/clients/<client_id>/revoke", tag="clients", result=ClientRevoked)
def revoke_client(caller: Actor, client_id: str) -> ClientRevoked:
    """Revoke a client for good, with every token it ever got

    Within a second no token of it is accepted anywhere. Revoking a revoked client
    succeeds and says so (`already_revoked`).
    """
    client, already = clients.revoke_client(caller, client_id)
    described = client_queries.describe(client)
    return ClientRevoked.model_validate({**described, "already_revoked": already})


@api.operation(
    "POST",
    "/clients/<client_id>/rotate-secret",
    tag="clients",
    body=SecretRotation,
    body_required=False,
    result=SecretRotated,
    errors=(409,),
)
def rotate_secret(caller: Actor, client_id: str, body: SecretRotation) -> SecretRotated:
    """Give an active client a new secret

    The new secret is in this answer only. The old one keeps working for
    `grace_seconds` (default 0: it stops now). A key client has no secret (409).
    """
    return secret_rotated(clients.rotate_secret(caller, client_id, body.grace_seconds))
