"""Key clients, allowed networks and usage through ``/api/v1/clients``: what a script can
do with them is what the console and the CLI can, with the same checks and emails."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, OutboxMessage
from tests.api.conftest import assert_api_error, in_days
from tests.assertions import assertion, assertion_form, jwk_set, public_jwk, session_key
from tests.conftest import ISSUER, Credentials
from tests.oauth.helpers import access_token

GRANT = {"grant_type": "client_credentials"}


def _token_status(http, client_id: str, key) -> int:
    form = {**GRANT, **assertion_form(assertion(client_id, key, "ES256", ISSUER))}
    return http.post("/token", data=form).status_code


def _secret_status(http, creds: Credentials) -> int:
    return http.post("/token", data=GRANT, headers=creds.basic).status_code


def test_a_key_client_is_created_without_a_secret_and_signs_in_with_its_key(http, member):
    key = session_key("ec")
    created = member.create(jwks=jwk_set(key))
    assert created["client_secret"] is None
    assert created["token_endpoint_auth_method"] == "private_key_jwt"
    assert [k["kty"] for k in created["jwks"]["keys"]] == ["EC"]
    assert all("d" not in k for k in created["jwks"]["keys"])
    assert _token_status(http, created["client_id"], key) == 200
    shown = member.get(f"/clients/{created['client_id']}").json
    assert shown["jwks"] == created["jwks"] and shown["last_used_ip"] == "127.0.0.1"
    assert shown["last_used_at"].endswith("Z")


def test_a_secret_client_says_how_it_authenticates(member):
    created = member.create()
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    assert created["jwks"] is None and created["allowed_networks"] == []
    assert created["last_used_at"] is None and created["last_used_ip"] is None


def test_keys_that_cannot_be_registered_are_422_naming_jwks(member):
    private = public_jwk(session_key("ec"), d="AAAA")
    symmetric = {"kty": "oct", "k": "c2VjcmV0"}
    for keys in ([private], [symmetric], [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}], [{}]):
        body = assert_api_error(
            member.post("/clients", _body(jwks={"keys": keys})), 422, fields={"jwks"}
        )
        assert "public" in body["message"] or "RSA" in body["message"], body
    for jwks in ({"keys": []}, {"keys": "x"}, {"kty": "EC"}, "-----BEGIN PUBLIC KEY-----"):
        body = assert_api_error(member.post("/clients", _body(jwks=jwks)), 422)
        assert body["fields"] and all(f.startswith("jwks") for f in body["fields"]), body
    assert member.get("/clients").json["total"] == 1  # only the caller's own manage client


def test_replacing_keys_stops_the_old_ones_and_is_audited_and_mailed(app, http, member):
    old, new = session_key("ec", 1), session_key("ec", 2)
    cid = member.create(jwks=jwk_set(old))["client_id"]
    replaced = member.patch(f"/clients/{cid}", {"jwks": jwk_set(new)})
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    assert replaced.json["jwks"]["keys"][0]["x"] == public_jwk(new)["x"]
    assert _token_status(http, cid, old) == 401
    assert _token_status(http, cid, new) == 200
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == cid))
        kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.client_id == cid))
        assert "client.set_keys" in set(actions) and "keys_replaced" in set(kinds)


def test_a_secret_client_gets_no_keys_and_a_key_client_no_secret(member):
    secret_client = member.create(name="with a secret")["client_id"]
    key_client = member.create(name="with a key", jwks=jwk_set(session_key("ec")))["client_id"]
    patch = {"jwks": jwk_set(session_key("ec"))}
    assert_api_error(member.patch(f"/clients/{secret_client}", patch), 409, fields={"jwks"})
    assert member.get(f"/clients/{secret_client}").json["jwks"] is None
    rotate = member.post(f"/clients/{key_client}/rotate-secret", {"grace_seconds": 0})
    assert_api_error(rotate, 409, fields={"grace_seconds"})


def test_allowed_networks_bind_where_a_client_may_authenticate(app, http, member):
    created = member.create(allowed_networks=["10.0.0.0/8", "2001:db8::/32"])
    cid, creds = created["client_id"], Credentials(created["client_id"], created["client_secret"])
    assert created["allowed_networks"] == ["10.0.0.0/8", "2001:db8::/32"]
    assert _secret_status(http, creds) == 401  # the test client speaks from 127.0.0.1
    widened = member.patch(f"/clients/{cid}", {"allowed_networks": ["127.0.0.0/8"]})
    assert widened.status_code == 200 and widened.json["allowed_networks"] == ["127.0.0.0/8"]
    assert access_token(http, creds)
    anywhere = member.patch(f"/clients/{cid}", {"allowed_networks": []})
    assert anywhere.json["allowed_networks"] == []
    with app.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.client_id == cid))
        assert sorted(k for k in kinds if k == "networks_changed") == ["networks_changed"] * 2


def test_impossible_networks_are_422_and_change_nothing(member):
    cid = member.create(allowed_networks=["10.1.0.0/16"])["client_id"]
    for networks in (["10.0.0.0/33"], ["999.1.1.1"], ["::/129"], ["1.2.3.4/x"], ["0" * 50]):
        for response in (
            member.post("/clients", _body(allowed_networks=networks)),
            member.patch(f"/clients/{cid}", {"allowed_networks": networks}),
        ):
            body = assert_api_error(response, 422)
            assert set(body["fields"]) <= {"allowed_networks", "allowed_networks.0"}, body
            assert body["fields"], body
    assert member.get(f"/clients/{cid}").json["allowed_networks"] == ["10.1.0.0/16"]


def test_a_rotation_shows_when_the_previous_secret_was_last_used(http, member):
    created = member.create()
    cid, old = created["client_id"], Credentials(created["client_id"], created["client_secret"])
    rotated = member.post(f"/clients/{cid}/rotate-secret", {"grace_seconds": 600}).json
    shown = member.get(f"/clients/{cid}").json
    assert shown["previous_secret_valid_until"] == rotated["previous_secret_valid_until"]
    assert shown["previous_secret_last_used_at"] is None
    assert access_token(http, old)
    assert member.get(f"/clients/{cid}").json["previous_secret_last_used_at"].endswith("Z")


def _body(**fields) -> dict:
    return {"name": "Keyed", "expires_on": in_days(30), "services": ["jobs"], **fields}
