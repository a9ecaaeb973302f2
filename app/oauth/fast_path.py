"""``/token`` and ``/introspect`` through Authlib's framework-free core, without Flask's
request cycle.

A served ``/token`` spent about 200 µs of its 600 µs of CPU in Flask and werkzeug:
the request context, URL routing, the request and response objects and the hooks,
none of which this one request needs. The same protocol code (Authlib's grant, this
app's client authentication, ``access_tokens.issue``) runs here on an
``OAuth2Request`` built from the WSGI environ. Measured served (Granian, 2 workers,
RS256, SQLite, 4 interleaved rounds of 8 s): 2,985 against 3,990 requests a second,
620 against 469 µs of server CPU per request.

``/introspect`` is the same: Authlib's introspection endpoint (this app's subclass,
``app.oauth.endpoints``) called on that request. Measured as above against the
``/token``-only fast path: 6,770 against 11,980 introspections a second, 265 against
146 µs per request.

It takes only a request of the plain shape, checked before anything is read from
the database, counted or logged (so declining has no side effect):

- ``POST /token`` or ``POST /introspect`` with no query string, over a transport
  the issuer allows;
- a body of ``application/x-www-form-urlencoded`` exactly, with a ``Content-Length``
  within the app's limit;
- no parameter twice; at ``/token``, ``grant_type=client_credentials``.

The services find the app through Flask's ``current_app``, so the request runs in
an app context, but not a new one each time: each thread keeps one standing context
and sets it as the current one for the request (``StandingContexts``).

For those it answers whatever Authlib answers: the token or the introspection, or an
RFC 6749 §5.2 error
(a wrong secret counts towards the address's failure limit exactly as through
Flask, because it is the same ``client_auth.authenticate``). An unexpected exception
(the database down) is answered by the app's own error handlers. Every other request
goes on to the full app with its body intact. The security
headers are those ``app.http_policy`` gives a machine path; the request id,
latency metric and access log line are added outside, by ``app.instrumentation``.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Flask
from flask.ctx import AppContext
from flask.globals import _cv_app
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import db
from app.http_policy import environ_address, machine_headers
from app.instrumentation import ROUTE
from app.oauth.server import EXTENSION as OAUTH
from app.oauth.server import OAuthRequest
from app.request import FORM, Parameters, parse_form
from app.services.runtime import EXTENSION as RUNTIME

TOKEN, INTROSPECT = "/token", "/introspect"
PATHS = frozenset({TOKEN, INTROSPECT})

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FastPath:
    """WSGI middleware: answers plain ``/token`` and ``/introspect`` requests, passes on
    the rest."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp, max_body: int) -> None:
        self.flask = app
        self.next = wsgi_app
        self.max_body = max_body
        https = app.extensions[RUNTIME].settings.serves_https
        self.security_headers = list(machine_headers(https).items())
        self.contexts = StandingContexts(app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        form = self.plain_form(environ)
        if form is None:
            return self.next(environ, start_response)
        try:
            status, body, headers = self.contexts.run(self.answer, environ, form)
        except Exception as error:  # noqa: BLE001 - answered by the app's own error handlers
            return self.app_error(error, environ, start_response)
        environ[ROUTE] = environ["PATH_INFO"]
        # werkzeug's status line, reason upper-cased ("401 UNAUTHORIZED")
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", headers)
        return [body]

    def app_error(self, error: Exception, environ: dict[str, Any], start_response: StartResponse):
        """The full app's answer to ``error``, as Flask's ``wsgi_app`` gives it: the error
        handlers, then the ``after_request`` hooks (security headers). Not a second run of
        the request: its first attempt may have changed state (a failed change-log check
        is not retried at once), so a second could answer differently."""
        with self.flask.request_context(environ):
            try:
                response = self.flask.finalize_request(self.flask.handle_user_exception(error))
            except Exception as unhandled:  # noqa: BLE001 - Flask's 500, logged as Flask logs it
                response = self.flask.handle_exception(unhandled)
            return response(environ, start_response)

    def plain_form(self, environ: dict[str, Any]) -> Parameters | None:
        """The form of a request of the plain shape (module docstring), else None.

        Whenever the body has been read, ``wsgi.input`` is put back as it was read.
        """
        if (
            environ.get("PATH_INFO") not in PATHS
            or environ.get("REQUEST_METHOD") != "POST"
            or environ.get("QUERY_STRING")
            or environ.get("CONTENT_TYPE") != FORM
            or not self.flask.extensions[OAUTH].allows(environ.get("wsgi.url_scheme"))
        ):
            return None
        length = environ.get("CONTENT_LENGTH", "")
        if "HTTP_TRANSFER_ENCODING" in environ or not (length.isascii() and length.isdigit()):
            return None  # chunked or malformed: the app's own answers
        size = int(length)
        if not 0 < size <= self.max_body:
            return None  # empty or oversized (413): the app's own answers
        try:
            body = environ["wsgi.input"].read(size)
        except Exception:  # noqa: BLE001 - e.g. a body that did not arrive in time (408)
            return None
        environ["wsgi.input"] = io.BytesIO(body)
        if len(body) != size:
            return None  # the client went away mid-body: the app's own answer (400)
        pairs = parse_form(body)
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            return None
        form = Parameters(pairs)
        if environ["PATH_INFO"] == TOKEN and form.get("grant_type") != "client_credentials":
            return None
        return form

    def answer(self, environ: dict[str, Any], form: Parameters) -> tuple[int, bytes, list]:
        """Authlib's answer to the request: (status, body, headers). Runs in an app context."""
        server = self.flask.extensions[OAUTH]
        path = environ["PATH_INFO"]
        request = OAuthRequest(
            "POST", server.origin, path, EnvironHeaders(environ), form, environ_address(environ)
        )
        try:
            if path == TOKEN:
                grant = server.get_token_grant(request)
                grant.validate_token_request()
                status, payload, headers = grant.create_token_response()
            else:
                status, payload, headers = server.introspection(request)
        except OAuth2Error as error:
            status, payload, headers = error(server.get_error_uri(request, error))
        body = orjson.dumps(payload)  # as the full app's (``AuthorizationServer.handle_response``)
        return (
            status,
            body,
            [*headers, ("Content-Length", str(len(body))), *self.security_headers],
        )


class StandingContexts:
    """One app context per thread, made current for each fast-path request, instead of a new
    context pushed and popped per request.

    Pushing and popping costs more than it seems: three signals, the teardown functions,
    and a new context object, whose code and data a loaded server has to fetch again for
    every request. Measured in-process (ES256 ``/token``, medians of 6 interleaved
    rounds of 3,000, 2 MB of cache overwritten before each request as a loaded server's
    other work does): 179 µs with a pushed context, 168 µs with a standing one.

    What a pop would do is done when needed: the database session that a cache miss
    opened is closed by the app's teardown (Flask-SQLAlchemy's is the only one, checked
    when a context is made), and whatever a request left in ``g`` goes with it. The
    ``appcontext_*`` signals are not sent: nothing in the app listens to them.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.local = threading.local()

    def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` with this thread's standing context as the current one."""
        context = getattr(self.local, "context", None) or self._make()
        token = _cv_app.set(context)
        try:
            return function(*args)
        finally:
            try:
                if db.session.registry.has():  # a cache miss read the database
                    self.app.do_teardown_appcontext()
                if vars(context.g):
                    context.g = self.app.app_ctx_globals_class()
            finally:
                _cv_app.reset(token)

    def _make(self) -> AppContext:
        teardowns = self.app.teardown_appcontext_funcs
        if len(teardowns) != 1:  # the database session's, which ``run`` knows when to call
            raise RuntimeError(f"the fast path knows one app-context teardown, not {teardowns}")
        self.local.context = self.app.app_context()
        return self.local.context


def install(app: Flask, max_body: int) -> None:
    """Put the fast path in front of the app (innermost: proxies and instrumentation wrap it)."""
    app.wsgi_app = FastPath(app, app.wsgi_app, max_body)  # type: ignore[method-assign]
