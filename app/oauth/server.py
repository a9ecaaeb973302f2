"""The Authlib ``AuthorizationServer``, built once per app (AUTHLIB-NOTES 10)."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Request
from flask import Flask, Request
from flask import request as flask_request

from app.oauth import client_auth
from app.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from app.oauth.grants import ClientCredentialsGrant

EXTENSION = "gatehouse.oauth"


class OAuthRequest(FlaskOAuth2Request):
    """Authlib's Flask request, without ``request.url``.

    Authlib uses the URL only to check the scheme (https unless insecure
    transport is allowed), but werkzeug builds ``request.url`` with an IRI
    conversion that costs more than the rest of the request parsing.
    """

    def __init__(self, request: Request) -> None:
        uri = f"{request.scheme}://{request.host}{request.path}"
        OAuth2Request.__init__(self, request.method, uri, headers=request.headers)
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class AuthorizationServer(FlaskAuthorizationServer):
    """Authlib's Flask server with Gatehouse's client authentication."""

    def create_oauth2_request(self, request) -> OAuthRequest:
        # the request object itself, not the context-local proxy: Authlib reads it many times
        return OAuthRequest(flask_request._get_current_object())

    def authenticate_client(self, request, methods, endpoint="token"):
        return client_auth.authenticate(request, methods)

    def query_client(self, client_id):  # pragma: no cover - authenticate_client is used instead
        raise NotImplementedError("clients are looked up in app.oauth.client_auth")

    def save_token(self, token, request) -> None:
        """Tokens are self-contained JWTs: nothing is stored per token."""


def build_server(app: Flask) -> AuthorizationServer:
    """A fresh server for ``app`` with the one grant and two endpoints registered."""
    server = AuthorizationServer()
    server.init_app(app)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(IntrospectionEndpoint)
    server.register_endpoint(RevocationEndpoint)
    app.extensions[EXTENSION] = server
    return server
