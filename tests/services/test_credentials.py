"""Key clients and allowed networks through the services: created, replaced, audited and
mailed in one transaction each, refused whole when any part is wrong, and what the API
and CLI print about them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import AuditEvent, Client, OutboxMessage
from app.services import client_credentials, client_queries, clients, users
from app.services.actors import Actor
from tests.assertions import public_jwk, public_pem, session_key
from tests.helpers import ADMIN, MEMBER, OTHER


def soon(days: int = 30) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


@pytest.fixture
def ctx(app, people):
    with app.app_context():
        yield


def person(email: str) -> Actor:
    return Actor.person(users.get_by_email(email), address="192.0.2.7")


def create(actor: Actor, name: str = "payroll sync", **extra):
    return clients.create_client(
        actor, name=name, scopes=["jobs"], expires_on=soon(), owner_email=MEMBER, **extra
    )


def audit_of(client_id: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.target == client_id).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def mail_of(client_id: str) -> list[str]:
    query = select(OutboxMessage).where(OutboxMessage.client_id == client_id)
    return [message.kind for message in db.session.scalars(query.order_by(OutboxMessage.id))]


def reload(client_id: str) -> Client:
    db.session.expire_all()
    return db.session.scalars(select(Client).where(Client.client_id == client_id)).one()


def test_a_key_client_has_no_secret_anywhere(ctx):
    issued = create(person(ADMIN), jwks=public_pem(session_key("ec")))
    client = issued.client
    assert issued.secret is None
    assert client.secret_hash is None and client.previous_secret_hash is None
    assert client.token_endpoint_auth_method == "private_key_jwt"
    described = client_queries.describe(client)
    assert described["token_endpoint_auth_method"] == "private_key_jwt"
    assert described["jwks"]["keys"][0]["kty"] == "EC"
    (entry,) = audit_of(client.client_id)
    assert entry.details["token_endpoint_auth_method"] == "private_key_jwt"
    assert entry.details["kids"] == [described["jwks"]["keys"][0]["kid"]]
    with pytest.raises(Conflict, match="has no secret"):
        clients.rotate_secret(person(ADMIN), client.client_id, 0)


def test_a_secret_client_describes_itself_as_one(ctx):
    described = client_queries.describe(create(person(MEMBER)).client)
    assert described["token_endpoint_auth_method"] == "client_secret_basic"
    assert described["jwks"] is None
    assert described["allowed_networks"] == []
    assert described["last_used_ip"] is None
    assert described["previous_secret_last_used_at"] is None


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"jwks": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"}, "jwks"),
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "jwks"),
        ({"allowed_networks": ["10.0.0.0/33"]}, "allowed_networks"),
        ({"allowed_networks": "10.0.0.0/8"}, "allowed_networks"),
        ({"allowed_networks": [10]}, "allowed_networks"),
    ],
    ids=["private PEM", "symmetric key", "impossible CIDR", "a string, not a list", "a number"],
)
def test_bad_keys_or_networks_create_nothing(ctx, extra, field):
    with pytest.raises(InvalidInput) as refused:
        create(person(ADMIN), **extra)
    assert refused.value.fields == {field: "invalid"}
    assert db.session.scalar(select(Client.id)) is None
    assert (
        db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "client.create")) is None
    )


def test_set_keys_is_audited_and_mailed_like_a_rotation(ctx):
    client_id = create(person(ADMIN), jwks=public_pem(session_key("ec"))).client.client_id
    new = {"keys": [public_jwk(session_key("ed"), kid="ed-2027")]}
    client_credentials.set_keys(person(MEMBER), client_id, new)
    client = reload(client_id)
    assert json.loads(client.jwks)["keys"][0]["kid"] == "ed-2027"
    entry = audit_of(client_id)[-1]
    assert (entry.action, entry.actor, entry.address) == ("client.set_keys", MEMBER, "192.0.2.7")
    assert entry.details == {"kids": ["ed-2027"]}
    assert mail_of(client_id).count("keys_replaced") == 2  # the owner and the creator
    text = db.session.scalars(
        select(OutboxMessage.text_body).where(OutboxMessage.kind == "keys_replaced")
    ).first()
    assert "ed-2027" in text and "private key (private_key_jwt)" in text
    assert "Gatehouse holds only its public keys" in text
    # the same keys again: no change, no audit entry, no email
    client_credentials.set_keys(person(MEMBER), client_id, new)
    assert len(audit_of(client_id)) == 2 and mail_of(client_id).count("keys_replaced") == 2


def test_set_keys_keeps_secret_clients_secret_clients(ctx):
    client_id = create(person(MEMBER)).client.client_id
    with pytest.raises(Conflict) as refused:
        client_credentials.set_keys(person(MEMBER), client_id, public_pem(session_key("ec")))
    assert refused.value.fields == {"jwks": "secret_client"}
    assert reload(client_id).jwks is None


def test_keys_and_networks_of_an_inactive_or_foreign_client_stay(ctx):
    client_id = create(person(ADMIN), jwks=public_pem(session_key("ec"))).client.client_id
    with pytest.raises(NotFound):
        client_credentials.set_networks(person(OTHER), client_id, ["10.0.0.0/8"])
    with pytest.raises(NotFound):
        client_credentials.set_keys(person(OTHER), client_id, public_pem(session_key("ed")))
    clients.revoke_client(person(ADMIN), client_id)
    with pytest.raises(Conflict, match="revoked"):
        client_credentials.set_networks(person(MEMBER), client_id, ["10.0.0.0/8"])
    assert reload(client_id).allowed_networks == ""


def test_set_networks_is_audited_and_mailed(ctx):
    client_id = create(person(MEMBER), allowed_networks=["192.0.2.0/24"]).client.client_id
    assert reload(client_id).networks == ["192.0.2.0/24"]
    client_credentials.set_networks(person(MEMBER), client_id, ["2001:db8::/32", "203.0.113.9"])
    assert reload(client_id).networks == ["2001:db8::/32", "203.0.113.9/32"]
    entry = audit_of(client_id)[-1]
    assert entry.action == "client.set_networks"
    assert entry.details == {
        "allowed_networks": ["2001:db8::/32", "203.0.113.9/32"],
        "before": ["192.0.2.0/24"],
    }
    client_credentials.set_networks(person(MEMBER), client_id, [])  # anywhere again
    assert reload(client_id).networks == []
    assert mail_of(client_id).count("networks_changed") == 2


def test_an_edit_with_a_bad_network_changes_nothing(ctx):
    client_id = create(person(MEMBER)).client.client_id
    with pytest.raises(InvalidInput):
        clients.update_client(
            person(MEMBER), client_id, name="renamed", allowed_networks=["10.0.0.1/8"]
        )
    client = reload(client_id)
    assert (client.name, client.networks) == ("payroll sync", [])
    assert [entry.action for entry in audit_of(client_id)] == ["client.create"]


def test_an_edit_may_replace_name_keys_and_networks_together(ctx):
    """What ``PATCH /api/v1/clients/{id}`` will call: one function, one transaction."""
    client_id = create(person(ADMIN), jwks=public_pem(session_key("ec"))).client.client_id
    clients.update_client(
        person(ADMIN),
        client_id,
        name="renamed",
        jwks=public_pem(session_key("rsa")),
        allowed_networks=["10.0.0.0/8"],
    )
    client = reload(client_id)
    assert client.name == "renamed" and client.networks == ["10.0.0.0/8"]
    assert json.loads(client.jwks)["keys"][0]["kty"] == "RSA"
    actions = [entry.action for entry in audit_of(client_id)]
    assert actions == ["client.create", "client.update", "client.set_keys", "client.set_networks"]
