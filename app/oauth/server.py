"""The Authlib ``AuthorizationServer``, built once per app.

Not a module global: ``register_grant`` appends, so a shared server would collect
one grant per app a test suite builds.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError, OAuth2Error
from flask import Flask, Request, Response
from flask import request as flask_request

from app.http_policy import client_address
from app.oauth import client_auth
from app.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from app.oauth.grants import ClientCredentialsGrant
from app.services.runtime import EXTENSION as RUNTIME

EXTENSION = "gatehouse.oauth"


class FormPayload(FlaskOAuth2Payload):
    """Parameters from the form body only (RFC 6749 §2.3.1: no credentials in the URI).

    Authlib's Flask payload reads ``request.values``, the query string merged into
    the form. The OAuth views refuse any query string before Authlib runs, so the
    merge could only ever hide one; it also costs a parse and a merged dict per request.
    """

    @property
    def data(self):
        return self._request.form


class OAuthRequest(FlaskOAuth2Request):
    """Authlib's Flask request, with the transport decided by this app's settings.

    Authlib uses the URL only to refuse plain http, and lets the *process*
    environment (``AUTHLIB_INSECURE_TRANSPORT``) allow it. Here the app decides:
    https always, plain http only when the issuer is (loopback, or explicitly
    allowed by ``GATEHOUSE_ALLOW_INSECURE_HTTP``). Behind a TLS-terminating proxy,
    ``GATEHOUSE_TRUSTED_PROXIES`` makes ``request.scheme`` the client's. The URI
    handed to Authlib is the issuer's origin with the request path: one of four
    strings, whose parse Authlib's ``urlsplit`` remembers, and no trust in the
    ``Host`` header.
    """

    def __init__(self, request: Request, origin: str, plain_http: bool) -> None:
        if request.scheme != "https" and not plain_http:
            raise InsecureTransportError(description="this server is served over https only")
        # The grandparent's __init__, skipping FlaskOAuth2Request's: that one would build
        # the URI from the Host header and read ``request.values`` (query merged in).
        OAuth2Request.__init__(self, request.method, origin + request.path)
        # Set after __init__: Authlib's ``headers or {}`` would count the headers (a
        # werkzeug ``EnvironHeaders`` walks the whole environ for ``len``).
        self.headers = request.headers
        #: the werkzeug request itself (Authlib's name), read by ``address``
        self._request = request
        self.payload = FormPayload(request)

    @property
    def address(self) -> str:
        """The caller's address (``app.http_policy.client_address``)."""
        return client_address(self._request)


class AuthorizationServer(FlaskAuthorizationServer):
    """Authlib's Flask server with Gatehouse's client authentication."""

    def __init__(self, issuer: str, plain_http: bool) -> None:
        super().__init__()
        #: ``https://`` + the issuer's host: the scheme was vetted by the time Authlib looks
        self.origin = "https://" + urlsplit(issuer).netloc
        self.plain_http = plain_http
        #: the endpoint registered for ``/introspect``, which ``app.oauth.fast_path`` calls
        self.introspection: IntrospectionEndpoint | None = None

    def create_oauth2_request(self, request) -> OAuthRequest:
        # the request object itself, not the context-local proxy: Authlib reads it many times
        current = flask_request._get_current_object()
        return OAuthRequest(current, self.origin, self.plain_http)

    def handle_response(self, status_code, payload, headers) -> Response:
        """Authlib's response, encoded by the standard library: Flask's JSON provider
        (which Authlib calls) looks up the app twice and sorts the keys, per response."""
        body = json.dumps(payload) if isinstance(payload, dict) else payload
        return Response(body, status=status_code, headers=headers)

    def authenticate_client(self, request, methods, endpoint="token"):
        return client_auth.authenticate(request, methods)

    def query_client(self, client_id):  # pragma: no cover - authenticate_client is used instead
        raise NotImplementedError("clients are looked up in app.oauth.client_auth")

    def save_token(self, token, request) -> None:
        """Tokens are self-contained JWTs: nothing is stored per token."""


def build_server(app: Flask) -> AuthorizationServer:
    """A fresh server for ``app`` with the one grant and two endpoints registered."""
    config = app.extensions[RUNTIME].settings
    server = AuthorizationServer(config.issuer, plain_http=config.insecure_transport)
    server.init_app(app)
    server.register_grant(ClientCredentialsGrant)
    server.introspection = IntrospectionEndpoint(server)
    server.register_endpoint(server.introspection)
    server.register_endpoint(RevocationEndpoint)
    app.extensions[EXTENSION] = server
    # OAuth errors raised outside Authlib's own try blocks (e.g. while building the
    # request) still answer as RFC 6749 §5.2 says
    app.register_error_handler(OAuth2Error, lambda error: server.handle_error_response(None, error))
    return server
