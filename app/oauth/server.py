"""The Authlib ``AuthorizationServer``, built once per app (AUTHLIB-NOTES 10)."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError, OAuth2Error
from flask import Flask, Request
from flask import request as flask_request

from app.oauth import client_auth
from app.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from app.oauth.grants import ClientCredentialsGrant
from app.services.runtime import settings

EXTENSION = "gatehouse.oauth"


class OAuthRequest(FlaskOAuth2Request):
    """Authlib's Flask request, with the transport decided by this app's settings.

    Authlib uses the URL only to refuse plain http, and lets the *process*
    environment (``AUTHLIB_INSECURE_TRANSPORT``) allow it. Here the app decides:
    https always, plain http only when the issuer is (loopback, or explicitly
    allowed; SPEC §4). Behind a TLS-terminating proxy, ``GATEHOUSE_TRUSTED_PROXIES``
    makes ``request.scheme`` the client's. Building the URI here also skips
    werkzeug's ``request.url``, whose IRI conversion is costly on the hot path.
    """

    def __init__(self, request: Request) -> None:
        if request.scheme != "https" and not settings().insecure_transport:
            raise InsecureTransportError(description="this server is served over https only")
        uri = f"https://{request.host}{request.path}"  # the scheme is vetted above
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
    # OAuth errors raised outside Authlib's own try blocks (e.g. while building the
    # request) still answer as RFC 6749 §5.2 says
    app.register_error_handler(OAuth2Error, lambda error: server.handle_error_response(None, error))
    return server
