"""RFC 8414 metadata and RFC 7517 JWKS; key rotation; ES256 and EdDSA signing."""

from __future__ import annotations

import time

import jwt
import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from app.security.key_pairs import KeyPair, generate_private_key, to_pem
from app.services import catalogue
from app.services.actors import Actor
from app.services.catalogue import DEFAULT_SERVICES, SYSTEM_SCOPES
from app.services.signing_keys import KeyStore
from tests.conftest import ISSUER
from tests.oauth.helpers import (
    CC,
    access_token,
    claims_for,
    introspect,
    is_active,
    sign_with_header,
    signing_key,
    unverified,
)

METADATA = "/.well-known/oauth-authorization-server"
JWKS = "/.well-known/jwks.json"
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def test_metadata_fields(http):
    response = http.get(METADATA)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    meta = response.json
    assert meta["issuer"] == ISSUER
    assert meta["token_endpoint"] == f"{ISSUER}/token"
    assert meta["jwks_uri"] == f"{ISSUER}{JWKS}"
    assert meta["introspection_endpoint"] == f"{ISSUER}/introspect"
    assert meta["revocation_endpoint"] == f"{ISSUER}/revoke"
    assert meta["grant_types_supported"] == ["client_credentials"]
    secrets_and_keys = {"client_secret_basic", "client_secret_post", "private_key_jwt"}
    assert set(meta["token_endpoint_auth_methods_supported"]) == secrets_and_keys
    assert set(meta["revocation_endpoint_auth_methods_supported"]) == secrets_and_keys
    assert set(meta["introspection_endpoint_auth_methods_supported"]) == secrets_and_keys | {
        "bearer"
    }
    # RFC 8414 §2: the assertion algorithms of each endpoint that takes private_key_jwt;
    # never "none" (which RFC 8414 forbids here) nor a symmetric one
    for endpoint in ("token", "introspection", "revocation"):
        algs = meta[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert set(algs) == {"RS256", "PS256", "ES256", "EdDSA", "Ed25519"}, endpoint
    catalogue = {key for key, _ in DEFAULT_SERVICES}
    assert catalogue | set(SYSTEM_SCOPES) <= set(meta["scopes_supported"])
    assert {"introspect", "manage"} <= set(meta["scopes_supported"])
    assert isinstance(meta.get("response_types_supported", []), list)


def test_metadata_lists_a_service_added_to_the_catalogue(app, http):
    with app.app_context():
        catalogue.add_service(Actor.cli(), "payroll", "Payroll API")
    assert "payroll" in http.get(METADATA).json["scopes_supported"]


def test_metadata_endpoints_follow_the_configured_issuer(config, request):
    config["GATEHOUSE_ISSUER"] = "https://auth.example.com/"
    meta = request.getfixturevalue("http").get(METADATA).json
    assert meta["issuer"] == "https://auth.example.com"
    assert meta["token_endpoint"] == "https://auth.example.com/token"
    assert meta["jwks_uri"] == f"https://auth.example.com{JWKS}"


# Authlib 1.9's validator requires a non-empty ``response_types_supported``; RFC 8414 §2
# only requires a JSON array, and a client-credentials-only server has no response
# types, so Gatehouse publishes []. That one check is left out (see the report).
AUTHLIB_DISAGREES = {"response_types_supported"}


def test_metadata_passes_authlibs_rfc8414_validation(config, request):
    config["GATEHOUSE_ISSUER"] = "https://auth.example.com"  # Authlib requires https
    meta = AuthorizationServerMetadata(request.getfixturevalue("http").get(METADATA).json)
    for key in AuthorizationServerMetadata.REGISTRY_KEYS:
        if key not in AUTHLIB_DISAGREES:
            getattr(meta, f"validate_{key}")()
    assert meta["response_types_supported"] == []


def test_authlib_rejects_the_empty_response_types_list(config, request):
    """Documents the disagreement above; fails (and can be dropped) if Authlib changes."""
    config["GATEHOUSE_ISSUER"] = "https://auth.example.com"
    meta = AuthorizationServerMetadata(request.getfixturevalue("http").get(METADATA).json)
    with pytest.raises(ValueError, match="response_types_supported"):
        meta.validate()


# -- JWKS ----------------------------------------------------------------------------
def test_jwks_publishes_public_keys_only(app, http):
    response = http.get(JWKS)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    keys = response.json["keys"]
    assert keys
    for key in keys:
        assert key["kid"] and key["alg"] and key["use"] == "sig"
        assert not PRIVATE_JWK_MEMBERS & set(key), key
        assert key["kty"] == "RSA" and {"n", "e"} <= set(key)
    assert signing_key(app).kid in {key["kid"] for key in keys}


def test_jwks_key_verifies_a_token(http, factory):
    token = access_token(http, factory.client())
    header, _ = unverified(token)
    jwk = next(k for k in http.get(JWKS).json["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]], audience=ISSUER, issuer=ISSUER
    )
    assert claims["client_id"]


def test_rotation_new_kid_signs_old_kid_stays_published(app, http, factory):
    creds = factory.client()
    spy = factory.introspector()
    old_token = access_token(http, creds)
    old_kid = unverified(old_token)[0]["kid"]

    new_key = app.extensions["gatehouse"].keys.create("RS256")
    assert new_key.kid != old_kid

    new_token = access_token(http, creds)
    assert unverified(new_token)[0]["kid"] == new_key.kid
    published = {key["kid"] for key in http.get(JWKS).json["keys"]}
    assert {old_kid, new_key.kid} <= published
    assert is_active(http, old_token, spy)
    assert is_active(http, new_token, spy)
    # tokens signed by the retired key still verify offline against the JWKS
    jwk = next(k for k in http.get(JWKS).json["keys"] if k["kid"] == old_kid)
    jwt.decode(old_token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=ISSUER)


def test_key_rotated_by_another_process_is_picked_up_without_restart(config, request):
    """``gatehouse keys rotate`` in another process: the folder is looked at once a second."""
    app, http = request.getfixturevalue("app"), request.getfixturevalue("http")
    creds = request.getfixturevalue("factory").client()
    old_kid = unverified(access_token(http, creds))[0]["kid"]
    new_key = KeyStore(config["GATEHOUSE_KEYS_DIR"], 600).create("ES256")  # not the app's store
    time.sleep(1.0)
    header, _ = unverified(access_token(http, creds))
    assert header["kid"] == new_key.kid != old_kid
    assert header["alg"] == "ES256"
    assert {old_kid, new_key.kid} <= {key["kid"] for key in http.get(JWKS).json["keys"]}
    assert signing_key(app).kid == new_key.kid


def test_retired_key_is_dropped_once_its_tokens_have_expired(config, request):
    """A retired key is published until every token it signed has expired.

    Kids encode creation time. ``A`` was retired by ``B`` in 2000: long gone. ``B`` was
    retired by the session's key a moment ago: its tokens may still be alive.
    """
    keys_dir = config["GATEHOUSE_KEYS_DIR"]
    retired = {}
    for kid in ("20000101T000000Z-aaaaaaaa", "20000101T010000Z-bbbbbbbb"):
        private_key = generate_private_key("ES256")
        path = keys_dir / f"{kid}.pem"
        path.write_bytes(to_pem(private_key))
        path.chmod(0o600)
        retired[kid] = KeyPair(kid, "ES256", private_key)
    app, http = request.getfixturevalue("app"), request.getfixturevalue("http")
    factory = request.getfixturevalue("factory")
    creds, spy = factory.client(), factory.introspector()

    published = {key["kid"] for key in http.get(JWKS).json["keys"]}
    assert "20000101T010000Z-bbbbbbbb" in published
    assert "20000101T000000Z-aaaaaaaa" not in published
    assert signing_key(app).kid in published
    assert signing_key(app).kid not in retired

    for kid, key in retired.items():
        token = sign_with_header(key, claims_for(creds.client_id))
        expected = kid.endswith("bbbbbbbb")
        assert is_active(http, token, spy) is expected, kid


# -- other algorithms ---------------------------------------------------------------------
@pytest.mark.parametrize(("alg", "kty"), [("ES256", "EC"), ("EdDSA", "OKP")])
def test_other_signing_algorithms_produce_verifiable_tokens(config, request, tmp_path, alg, kty):
    keys_dir = tmp_path / f"keys-{alg}"
    KeyStore(keys_dir, 600).create(alg)
    config["GATEHOUSE_SIGNING_ALG"] = alg
    config["GATEHOUSE_KEYS_DIR"] = keys_dir
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")

    token = access_token(http, factory.client())
    header, claims = unverified(token)
    assert header["alg"] == alg and header["typ"] == "at+jwt"

    jwk = next(k for k in http.get(JWKS).json["keys"] if k["kid"] == header["kid"])
    assert jwk["alg"] == alg and jwk["kty"] == kty and jwk["use"] == "sig"
    assert not PRIVATE_JWK_MEMBERS & set(jwk)
    verified = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=[alg], audience=ISSUER, issuer=ISSUER
    )
    assert verified == claims

    result = introspect(http, token, factory.introspector()).json
    assert result["active"] is True
    assert http.get(METADATA).json.get("access_token_signing_alg_values_supported", [alg]) == [alg]


@pytest.mark.parametrize("content", [b"", b"-----BEGIN PRIVATE KEY-----\ngarbage\n"])
def test_a_bad_key_file_is_ignored_not_fatal(app, http, factory, keys_dir, content):
    """A half-written or foreign file in the keys folder must not take the server down."""
    creds = factory.client()
    good = [k["kid"] for k in http.get("/.well-known/jwks.json").json["keys"]]
    (keys_dir / "99990101T000000Z-broken.pem").write_bytes(content)
    app.extensions["gatehouse"].keys.refresh(force=True)
    response = http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert [k["kid"] for k in response.json["keys"]] == good
    assert http.post("/token", data=CC, headers=creds.basic).status_code == 200
