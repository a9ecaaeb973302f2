"""Plain http only for a loopback (or explicitly allowed) issuer; behind a
TLS-terminating proxy, ``GATEHOUSE_TRUSTED_PROXIES`` makes the client's scheme count."""

from __future__ import annotations

import os

import pytest
from authlib.oauth2.rfc6749 import OAuth2Request
from flask import Flask
from werkzeug.datastructures import MultiDict

from app import create_app
from app.extensions import db
from app.oauth.server import OAuthRequest
from app.services import catalogue
from tests.conftest import Factory
from tests.oauth.helpers import CC, assert_oauth_error

ISSUER = "https://auth.example.com"


@pytest.fixture
def https_app(config, app) -> Flask:
    """An https-issuer instance on the same (emptied) database as ``app``."""
    other = create_app({**config, "GATEHOUSE_ISSUER": ISSUER, "GATEHOUSE_TRUSTED_PROXIES": "1"})
    with other.app_context():
        catalogue.seed_defaults()
    yield other
    with other.app_context():
        db.engine.dispose()


def test_plain_http_to_an_https_issuer_is_refused_clearly(https_app):
    creds = Factory(https_app).client()
    response = https_app.test_client().post("/token", data=CC, headers=creds.basic)
    body = assert_oauth_error(response, 400, "insecure_transport")
    assert "https" in body["error_description"]


def test_https_directly_or_through_a_trusted_proxy_is_served(https_app):
    creds = Factory(https_app).client()
    http = https_app.test_client()
    direct = http.post("/token", data=CC, headers=creds.basic, base_url=ISSUER)
    assert direct.status_code == 200, direct.json
    proxied = http.post("/token", data=CC, headers=creds.basic | {"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200, proxied.json


def test_no_app_loosens_transport_for_the_whole_process(app):
    """An http issuer is allowed per app; the process environment is left alone."""
    assert "AUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_the_oauth_request_is_authlib_s_without_its_transport_check():
    """``OAuthRequest`` skips Authlib's ``__init__`` (its transport check is done before):
    it must still set every attribute Authlib's sets, to the value Authlib would."""
    headers = {"Authorization": "Basic eDp5"}
    form = MultiDict([("grant_type", "client_credentials")])
    ours = OAuthRequest("POST", "https://auth.example.com", "/token", headers, form, "192.0.2.1")
    authlib = OAuth2Request("POST", "https://auth.example.com/token", headers=headers)
    authlib.payload = ours.payload
    assert {name: getattr(ours, name) for name in vars(authlib)} == vars(authlib)
    assert (ours.path, ours.address, ours.form) == ("/token", "192.0.2.1", form)


def test_an_issuer_written_with_an_upper_case_scheme_is_https_everywhere(config, app):
    """RFC 3986 §6.2.2.1: ``HTTPS://`` is https. The issuer is normalised, so tokens and
    metadata name ``https://…``, plain http is refused and HSTS is sent."""
    shouty = create_app({**config, "GATEHOUSE_ISSUER": " HTTPS://auth.example.com/ "})
    try:
        with shouty.app_context():
            catalogue.seed_defaults()
        creds = Factory(shouty).client()
        http = shouty.test_client()
        assert_oauth_error(
            http.post("/token", data=CC, headers=creds.basic), 400, "insecure_transport"
        )
        token = http.post("/token", data=CC, headers=creds.basic, base_url=ISSUER)
        assert token.status_code == 200, token.json
        assert token.headers["Strict-Transport-Security"].startswith("max-age=")
        metadata = http.get("/.well-known/oauth-authorization-server", base_url=ISSUER)
        assert metadata.json["issuer"] == ISSUER
    finally:
        with shouty.app_context():
            db.engine.dispose()
