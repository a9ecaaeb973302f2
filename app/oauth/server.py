"""The Authlib ``AuthorizationServer``, built once per app (AUTHLIB-NOTES 10)."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from flask import Flask

from app.oauth import client_auth
from app.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from app.oauth.grants import ClientCredentialsGrant

EXTENSION = "gatehouse.oauth"


class AuthorizationServer(FlaskAuthorizationServer):
    """Authlib's Flask server with Gatehouse's client authentication."""

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
