"""Key clients, allowed networks and usage in the console: the wizard's public-key box and
networks field, the one-time page of a key client, a token's page (how it signs in, from
where, when and from which address it was last used, the previous secret's last use),
replacing keys and networks."""

from __future__ import annotations

import json
import re
from html import unescape

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.services import clients
from app.services.actors import Actor
from tests.assertions import (
    assertion,
    assertion_form,
    private_pem,
    public_jwk,
    public_pem,
    session_key,
)
from tests.conftest import ISSUER
from tests.helpers import MEMBER

CLIENT_ID = re.compile(r"/tokens/([A-Za-z0-9]+)/secret")


def generated_id(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    match = CLIENT_ID.search(response.headers["Location"])
    assert match
    return match.group(1)


def post_assertion(http, client_id: str, key) -> int:
    value = assertion(client_id, key, "ES256", ISSUER)
    return http.post(
        "/token", data={"grant_type": "client_credentials", **assertion_form(value)}
    ).status_code


def test_the_wizard_makes_a_key_client_from_a_pasted_pem(as_member, http):
    key = session_key("ec")
    response = as_member.generate(services=["jobs"], jwks=public_pem(key))
    client_id = generated_id(response)
    page = as_member.page(f"/tokens/{client_id}/secret")
    assert "This token has no secret" in page
    assert "gts_" not in page
    assert client_id in page and f"{ISSUER}/token" in page
    assert post_assertion(http, client_id, key) == 200
    assert as_member.get(f"/tokens/{client_id}/secret").status_code == 410
    token_page = as_member.page(f"/tokens/{client_id}")
    assert "private_key_jwt" in token_page and "Rotate secret" not in token_page


def test_the_wizard_takes_a_jwk_set_too(as_member, http):
    key = session_key("ed")
    response = as_member.generate(
        services=["jobs"], jwks=json.dumps({"keys": [public_jwk(key, kid="ed-1")]})
    )
    client_id = generated_id(response)
    assert "ed-1" in as_member.page(f"/tokens/{client_id}")


def test_the_wizard_says_what_is_wrong_with_a_key_and_keeps_the_form(as_member, app):
    response = as_member.generate(services=["jobs"], jwks=private_pem(session_key("ec")))
    assert response.status_code == 400
    page = unescape(response.get_data(as_text=True))
    assert "this is a private key" in page and "openssl pkey" in page
    assert 'id="jwks-error"' in page
    with app.app_context():
        assert (
            db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "client.create"))
            is None
        )


def test_the_wizard_binds_networks_and_refuses_an_impossible_one(as_member):
    refused = as_member.generate(services=["jobs"], allowed_networks="10.0.0.0/33")
    assert refused.status_code == 400
    assert 'id="allowed_networks-error"' in refused.get_data(as_text=True)
    assert "10.0.0.0/33 is not a network" in refused.get_data(as_text=True)
    response = as_member.generate(services=["jobs"], allowed_networks="192.0.2.0/24, 2001:db8::/32")
    client_id = generated_id(response)
    page = as_member.page(f"/tokens/{client_id}")
    assert "<code>192.0.2.0/24</code>, <code>2001:db8::/32</code>" in page


def test_the_token_page_edits_networks(as_member, http, factory):
    creds = factory.client(owner=MEMBER)
    form = {"name": "client 1", "description": "", "services": ["jobs"]}
    saved = as_member.post(f"/tokens/{creds.client_id}", {**form, "allowed_networks": "192.0.2.7"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert "<code>192.0.2.7/32</code>" in as_member.page(f"/tokens/{creds.client_id}")
    refused = http.post("/token", data={"grant_type": "client_credentials"}, headers=creds.basic)
    assert refused.status_code == 401  # the test client comes from 127.0.0.1
    bad = as_member.post(f"/tokens/{creds.client_id}", {**form, "allowed_networks": "192.0.2.7/8"})
    assert bad.status_code == 400
    assert "host bits set" in bad.get_data(as_text=True)
    as_member.post(f"/tokens/{creds.client_id}", {**form, "allowed_networks": ""})
    assert "anywhere" in as_member.page(f"/tokens/{creds.client_id}")


def test_the_token_page_replaces_keys(as_member, http, factory):
    old, new = session_key("ec"), session_key("ec", 6)
    client_id = factory.client(owner=MEMBER, jwks=public_pem(old)).client_id
    refused = as_member.post(f"/tokens/{client_id}/keys", {"jwks": "garbage"})
    assert refused.status_code == 400 and 'id="jwks-error"' in refused.get_data(as_text=True)
    replaced = as_member.post(f"/tokens/{client_id}/keys", {"jwks": public_pem(new)})
    assert replaced.status_code == 302
    assert post_assertion(http, client_id, old) == 401
    assert post_assertion(http, client_id, new) == 200
    assert "previous ones no longer work" in as_member.page(f"/tokens/{client_id}")


def test_replacing_keys_of_someone_elses_token_is_a_404(as_member, factory):
    client_id = factory.client(jwks=public_pem(session_key("ec"))).client_id  # owner@example.com
    assert as_member.post(f"/tokens/{client_id}/keys", {"jwks": "x"}).status_code == 404


def test_the_token_page_shows_use_and_the_previous_secrets_last_use(as_member, http, factory, app):
    creds = factory.client(owner=MEMBER)
    page = as_member.page(f"/tokens/{creds.client_id}")
    assert "Last used</dt><dd>never" in page
    http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers=creds.basic,
        environ_base={"REMOTE_ADDR": "192.0.2.200"},
    )
    with app.app_context():
        issued = clients.rotate_secret(Actor.cli(), creds.client_id, grace_seconds=3600)
    page = as_member.page(f"/tokens/{creds.client_id}")
    assert "from <code>192.0.2.200</code>" in page
    assert "it has not been used since the rotation" in page
    assert issued.secret != creds.secret
    http.post("/token", data={"grant_type": "client_credentials"}, headers=creds.basic)
    page = as_member.page(f"/tokens/{creds.client_id}")
    assert "it was last used just now" in page
