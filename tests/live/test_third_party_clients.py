"""Off-the-shelf OAuth and JWT libraries against the live server, as integrators use them."""

from __future__ import annotations

import jwt
import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from app.security.secrets import generate_secret
from tests.conftest import Factory
from tests.live.calls import access_token, introspect
from tests.live.server import LiveServer


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both client libraries refuse http:// unless told: the live server is on loopback."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def _metadata(url: str) -> dict:
    response = requests.get(f"{url}/.well-known/oauth-authorization-server", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("scope", [None, ["jobs"]])
def test_requests_oauthlib_backend_application_client(
    live_server: LiveServer, factory: Factory, scope: list[str] | None
) -> None:
    creds = factory.client(scopes=["jobs", "candidates"])
    token_endpoint = _metadata(live_server.url)["token_endpoint"]
    assert token_endpoint == f"{live_server.url}/token"
    client = BackendApplicationClient(client_id=creds.client_id, scope=scope)
    with OAuth2Session(client=client) as session:
        token = session.fetch_token(
            token_url=token_endpoint,
            auth=HTTPBasicAuth(creds.client_id, creds.secret),
            include_client_id=False,
        )
    assert token["token_type"] == "Bearer"
    assert 0 < token["expires_in"] <= 600
    assert token["scope"] == (scope or ["candidates", "jobs"])
    result = introspect(live_server.url, factory.introspector(), token["access_token"])
    assert result["active"] is True
    assert result["client_id"] == creds.client_id
    assert result["scope"] == " ".join(scope or ["candidates", "jobs"])


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_requests_client(live_server: LiveServer, factory: Factory, method: str) -> None:
    creds = factory.client(scopes=["jobs", "candidates"])
    assert method in _metadata(live_server.url)["token_endpoint_auth_methods_supported"]
    with AuthlibSession(
        creds.client_id, creds.secret, token_endpoint_auth_method=method, scope="jobs"
    ) as session:
        token = session.fetch_token(f"{live_server.url}/token", grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "jobs"
        assert session.token["access_token"] == token["access_token"]
    result = introspect(live_server.url, factory.introspector(), token["access_token"])
    assert result["active"] is True
    assert result["client_id"] == creds.client_id
    assert result["scope"] == "jobs"


def test_authlib_client_with_a_wrong_secret_gets_invalid_client(
    live_server: LiveServer, factory: Factory
) -> None:
    creds = factory.client()
    wrong = generate_secret()  # well formed, so it is checked against the stored hash
    with (
        AuthlibSession(creds.client_id, wrong) as session,
        pytest.raises(OAuthError) as raised,
    ):
        session.fetch_token(f"{live_server.url}/token", grant_type="client_credentials")
    assert raised.value.error == "invalid_client"


def test_pyjwt_jwks_client_verifies_the_access_token(
    live_server: LiveServer, factory: Factory
) -> None:
    creds = factory.client(scopes=["jobs"])
    token = access_token(live_server.url, creds)
    metadata = _metadata(live_server.url)
    assert metadata["jwks_uri"] == f"{live_server.url}/.well-known/jwks.json"

    jwks_client = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True)
    signing_key = jwks_client.get_signing_key_from_jwt(token)
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"  # RFC 9068 §2.1
    assert header["kid"] == signing_key.key_id
    assert header["alg"] == signing_key.algorithm_name == "RS256"
    published = {key.key_id: key for key in jwks_client.get_jwk_set().keys}
    assert published[header["kid"]]._jwk_data["use"] == "sig"

    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["RS256"],
        issuer=live_server.url,
        audience=live_server.url,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]},
    )
    assert claims["sub"] == claims["client_id"] == creds.client_id
    assert claims["scope"] == "jobs"
    assert 0 < claims["exp"] - claims["iat"] <= 600

    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, signing_key.key, algorithms=["RS256"], audience="https://other.example")
