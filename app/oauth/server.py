"""The Authlib ``AuthorizationServer``, built once per app.

Not a module global: ``register_grant`` appends, so a shared server would collect
one grant per app a test suite builds.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import orjson
from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError, OAuth2Error
from flask import Flask, Response
from flask import request as flask_request
from werkzeug.datastructures import MultiDict

from app.http_policy import client_address
from app.oauth import client_auth
from app.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from app.oauth.grants import ClientCredentialsGrant
from app.services.runtime import EXTENSION as RUNTIME

EXTENSION = "gatehouse.oauth"


class FormPayload(OAuth2Payload):
    """Parameters from the form body only (RFC 6749 §2.3.1: no credentials in the URI).

    Authlib's Flask payload reads ``request.values``, the query string merged into
    the form. The OAuth views refuse any query string before Authlib runs, so the
    merge could only ever hide one; it also costs a parse and a merged dict per request.
    """

    def __init__(self, form: MultiDict) -> None:
        self._form = form

    @property
    def data(self) -> MultiDict:
        return self._form

    @cached_property
    def datalist(self) -> dict[str, list[str]]:
        return {name: self._form.getlist(name) for name in self._form}


class OAuthRequest(OAuth2Request):
    """Authlib's request for one request to this app, from Flask's request or, on the
    fast path (``app.oauth.fast_path``), from the WSGI environ.

    The URI handed to Authlib is the issuer's origin with the request path: one of a
    few strings, and no trust in the ``Host`` header. The transport was vetted before
    (``AuthorizationServer.allows``), so Authlib's own check, which parses the URI on
    every request (2.4 µs of a ``/token``) and could only ever pass on an ``https://``
    origin, is skipped: ``__init__`` sets the attributes Authlib's does, without it
    (tests/oauth/test_transport.py holds it to that).
    """

    def __init__(
        self, method: str, origin: str, path: str, headers: Any, form: MultiDict, address: str
    ) -> None:
        self.method = method
        self.uri = origin + path
        # Not Authlib's ``headers or {}``: that counts the headers (a werkzeug
        # ``EnvironHeaders`` walks the whole environ for ``len``).
        self.headers = headers
        self._body = None
        self.payload = FormPayload(form)
        self.client = self.auth_method = self.user = self.credential = None
        self.authorization_code = self.refresh_token = self._scope = None
        self.path = path
        #: the caller's address (``app.http_policy.environ_address``)
        self.address = address

    @property
    def form(self) -> MultiDict:
        return self.payload.data


class AuthorizationServer(FlaskAuthorizationServer):
    """Authlib's Flask server with Gatehouse's client authentication."""

    def __init__(self, issuer: str, plain_http: bool) -> None:
        super().__init__()
        #: ``https://`` + the issuer's host: the scheme was vetted by the time Authlib looks
        self.origin = "https://" + urlsplit(issuer).netloc
        self.plain_http = plain_http
        #: the endpoint registered for ``/introspect``, which ``app.oauth.fast_path`` calls
        self.introspection: IntrospectionEndpoint | None = None

    def allows(self, scheme: str) -> bool:
        """Authlib refuses plain http unless the *process* environment
        (``AUTHLIB_INSECURE_TRANSPORT``) allows it. Here the app decides: https always,
        plain http only when the issuer is (loopback, or explicitly allowed by
        ``GATEHOUSE_ALLOW_INSECURE_HTTP``). Behind a TLS-terminating proxy,
        ``GATEHOUSE_TRUSTED_PROXIES`` makes the scheme the client's."""
        return scheme == "https" or self.plain_http

    def create_oauth2_request(self, request) -> OAuthRequest:
        # the request object itself, not the context-local proxy: it is read many times
        current = flask_request._get_current_object()
        if not self.allows(current.scheme):
            raise InsecureTransportError(description="this server is served over https only")
        return OAuthRequest(
            current.method,
            self.origin,
            current.path,
            current.headers,
            current.form,
            client_address(current),
        )

    def handle_response(self, status_code, payload, headers) -> Response:
        """Authlib's response, encoded by orjson: Flask's JSON provider (which Authlib
        calls) looks up the app twice and sorts the keys, per response, and the standard
        library's ``json.dumps`` of a token response takes 3.5 µs against orjson's 0.23."""
        body = orjson.dumps(payload) if isinstance(payload, dict) else payload
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
    server = AuthorizationServer(config.issuer, plain_http=not config.serves_https)
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
