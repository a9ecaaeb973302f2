"""Allowed networks: a client bound to networks is refused elsewhere with the answer of a wrong
secret, after its credentials are verified; the refusal is audited with the address and its
owner mailed at most once an hour. The address honours ``GATEHOUSE_TRUSTED_PROXIES``.

(The same from a real second loopback address, through a real socket: tests/live.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, Client, OutboxMessage
from app.models.types import utcnow
from app.security.secrets import generate_secret
from app.services import client_credentials
from app.services.actors import Actor
from tests.assertions import assertion, assertion_form, public_pem, session_key
from tests.conftest import ISSUER, Factory
from tests.helpers import basic_auth
from tests.oauth.helpers import CC, assert_oauth_error

INSIDE, OUTSIDE = "192.0.2.10", "198.51.100.7"


def post(http, address: str, path: str = "/token", headers=None, **data):
    return http.post(path, data=data, headers=headers or {}, environ_base={"REMOTE_ADDR": address})


def refusals(app: Flask, client_id: str) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(
            AuditEvent.target == client_id, AuditEvent.action == "client.network_refused"
        )
        return list(db.session.scalars(query))


def alerts(app: Flask, client_id: str) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).where(
            OutboxMessage.client_id == client_id, OutboxMessage.kind == "network_refused"
        )
        return list(db.session.scalars(query))


def test_a_bound_client_is_served_inside_and_refused_outside_like_a_wrong_secret(
    app, http, factory: Factory
):
    creds = factory.client(allowed_networks=["192.0.2.0/24"])
    assert post(http, INSIDE, headers=creds.basic, **CC).status_code == 200
    refused = post(http, OUTSIDE, headers=creds.basic, **CC)
    wrong = post(http, OUTSIDE, headers=basic_auth(creds.client_id, generate_secret()), **CC)
    assert refused.status_code == wrong.status_code == 401
    assert refused.json == wrong.json
    assert refused.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]
    # only the right credentials from outside are a network refusal (after verification)
    (entry,) = refusals(app, creds.client_id)
    assert (entry.actor, entry.address) == (f"client:{creds.client_id}", OUTSIDE)
    assert entry.details == {"address": OUTSIDE}


def test_every_endpoint_checks_the_network(app, http, factory: Factory):
    caller = factory.client(scopes=["introspect"], allowed_networks=["192.0.2.0/24"])
    token = post(http, INSIDE, headers=caller.basic, **CC).json["access_token"]
    for path, data in [
        ("/introspect", {"token": token}),
        ("/revoke", {"token": token}),
        ("/revocations", {}),
    ]:
        assert post(http, OUTSIDE, path, headers=caller.basic, **data).status_code == 401, path
        assert post(http, INSIDE, path, headers=caller.basic, **data).status_code == 200, path
    # the client's own access token as a bearer credential is bound too (the first one
    # is revoked by now)
    fresh = post(http, INSIDE, headers=caller.basic, **CC).json["access_token"]
    bearer = {"Authorization": f"Bearer {fresh}"}
    assert post(http, INSIDE, "/introspect", headers=bearer, token=fresh).json["active"]
    outside = post(http, OUTSIDE, "/introspect", headers=bearer, token=fresh)
    assert outside.status_code == 401
    assert outside.headers["WWW-Authenticate"].startswith("Bearer")
    assert len(refusals(app, caller.client_id)) == 4


def test_a_key_client_is_bound_too(app, http, factory: Factory):
    key = session_key("ec")
    client_id = factory.client(
        jwks=public_pem(key), allowed_networks=["2001:db8::/32", "192.0.2.10"]
    ).client_id
    form = lambda: {**CC, **assertion_form(assertion(client_id, key, "ES256", ISSUER))}  # noqa: E731
    assert post(http, INSIDE, **form()).status_code == 200
    assert post(http, "2001:db8::1", **form()).status_code == 200
    assert post(http, "192.0.2.11", **form()).status_code == 401
    assert [entry.address for entry in refusals(app, client_id)] == ["192.0.2.11"]


def test_the_owner_is_mailed_at_most_once_an_hour(app, http, factory: Factory):
    creds = factory.client(allowed_networks=["192.0.2.0/24"])
    for _ in range(3):
        assert post(http, OUTSIDE, headers=creds.basic, **CC).status_code == 401
    assert len(refusals(app, creds.client_id)) == 3
    (mail,) = alerts(app, creds.client_id)  # the CLI made it: the owner alone
    assert mail.recipient == "owner@example.com"
    assert "refused from an address outside its networks" in mail.subject
    assert OUTSIDE in mail.text_body and OUTSIDE in mail.html_body
    with app.app_context():
        an_hour_ago = utcnow() - timedelta(minutes=61)
        db.session.execute(
            update(Client)
            .where(Client.client_id == creds.client_id)
            .values(network_alert_at=an_hour_ago)
        )
        db.session.commit()
    post(http, OUTSIDE, headers=creds.basic, **CC)
    assert len(alerts(app, creds.client_id)) == 2


def test_network_refusals_count_toward_the_failure_limit(config, request):
    config["GATEHOUSE_AUTH_FAILURES_PER_MINUTE"] = "2"
    app, http = request.getfixturevalue("app"), request.getfixturevalue("http")
    creds = request.getfixturevalue("factory").client(allowed_networks=["192.0.2.0/24"])
    statuses = [post(http, OUTSIDE, headers=creds.basic, **CC).status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]
    # a refusal answered with 429 is not audited one by one
    assert len(refusals(app, creds.client_id)) == 2
    assert post(http, INSIDE, headers=creds.basic, **CC).status_code == 200


def test_new_networks_apply_at_once(app, http, factory: Factory):
    creds = factory.client()
    assert post(http, OUTSIDE, headers=creds.basic, **CC).status_code == 200
    with app.app_context():
        client_credentials.set_networks(Actor.cli(), creds.client_id, ["192.0.2.0/24"])
    assert post(http, OUTSIDE, headers=creds.basic, **CC).status_code == 401
    with app.app_context():
        client_credentials.set_networks(Actor.cli(), creds.client_id, [])
    assert post(http, OUTSIDE, headers=creds.basic, **CC).status_code == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded", "seen"),
    [
        ("1", "192.0.2.10", "192.0.2.10"),  # one trusted hop: the address it forwarded
        ("1", "198.51.100.7, 192.0.2.10", "192.0.2.10"),  # the client forged an earlier hop
        ("2", "192.0.2.10, 198.51.100.7", "192.0.2.10"),  # two hops back
        ("0", "192.0.2.10", "127.0.0.1"),  # no trusted proxy: the header is ignored
        ("2", "192.0.2.10", "127.0.0.1"),  # fewer hops than trusted: the peer's address
        # some proxies add the client's port: the address is what counts
        ("1", "192.0.2.10:50312", "192.0.2.10"),
        ("1", "198.51.100.7:443, 192.0.2.10:50312", "192.0.2.10"),
        ("1", "[2001:db8::10]:50312", "2001:db8::10"),
    ],
)
def test_the_address_is_the_one_trusted_proxies_forwarded(
    config, request, proxies, forwarded, seen
):
    config["GATEHOUSE_TRUSTED_PROXIES"] = proxies
    app, http = request.getfixturevalue("app"), request.getfixturevalue("http")
    creds = request.getfixturevalue("factory").client(allowed_networks=["192.0.2.0/24"])
    headers = creds.basic | {"X-Forwarded-For": forwarded}
    response = post(http, "127.0.0.1", headers=headers, **CC)
    assert response.status_code == (200 if seen.startswith("192.0.2.") else 401)
    with app.app_context():
        client = db.session.scalars(select(Client).where(Client.client_id == creds.client_id)).one()
        if response.status_code == 200:
            assert client.last_used_ip == seen
        else:
            assert [entry.address for entry in refusals(app, creds.client_id)] == [seen]


@pytest.mark.parametrize(
    "forwarded",
    ['x", 198.51.100.7', '", 198.51.100.7', '"10.0.0.9, 198.51.100.7', "198.51.100.7"],
)
def test_a_client_cannot_pose_as_its_proxy(config, request, forwarded):
    """A client limited to the internal network, its secret in an outsider's hands: the
    outsider's proxy appends its address, and no quote in front of it makes the request
    look as if it came from the proxy itself (inside the internal network)."""
    config["GATEHOUSE_TRUSTED_PROXIES"] = "1"
    app, http = request.getfixturevalue("app"), request.getfixturevalue("http")
    creds = request.getfixturevalue("factory").client(allowed_networks=["10.0.0.0/8"])
    headers = creds.basic | {"X-Forwarded-For": forwarded}
    response = post(http, "10.0.0.2", headers=headers, **CC)  # the proxy
    assert_oauth_error(response, 401, "invalid_client")
    assert [entry.address for entry in refusals(app, creds.client_id)] == ["198.51.100.7"]
