"""Protocol routes: /token, /introspect, /revoke and the /revocations feed."""

from __future__ import annotations

import re

from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Blueprint, current_app, jsonify, request

from app.oauth.client_auth import BASIC, BEARER, POST, PRIVATE_KEY_JWT
from app.oauth.endpoints import require_introspect
from app.oauth.errors import invalid_request, unsupported_grant_type
from app.oauth.server import EXTENSION, AuthorizationServer
from app.request import FORM
from app.services import revocation_feed

bp = Blueprint("oauth", __name__)
REPEATABLE = {"resource"}
#: a feed cursor: ASCII digits only (``str.isdigit`` also takes "²" and "١")
CURSOR = re.compile(r"[0-9]{1,18}")


def _server() -> AuthorizationServer:
    return current_app.extensions[EXTENSION]


def _check_form_request() -> None:
    """RFC 6749 §3.2 / §2.3.1: a form body, no query-string parameters, no repeats."""
    current = request._get_current_object()  # one context lookup, not one per attribute
    if current.query_string:
        raise invalid_request(
            "send parameters in the form body: a query string is refused (it may hold credentials)"
        )
    if current.mimetype not in ("", FORM):
        raise invalid_request(f"the request body must be {FORM}, not {current.mimetype}")
    for key, values in current.form.lists():
        if len(values) > 1 and key not in REPEATABLE:
            raise invalid_request(f"the parameter {key} is repeated")


def _error(error: OAuth2Error):
    return _server().handle_error_response(None, error)


@bp.post("/token")
def token():
    """RFC 6749 §4.4.2: the client-credentials token request."""
    try:
        _check_form_request()
        grant_type = request.form.get("grant_type")
        if not grant_type:
            raise invalid_request("the grant_type parameter is required")
        if grant_type != "client_credentials":
            raise unsupported_grant_type(grant_type)
    except OAuth2Error as error:
        return _error(error)
    return _server().create_token_response()


@bp.post("/introspect")
def introspect():
    """RFC 7662 §2: token introspection for callers holding ``introspect``."""
    try:
        _check_form_request()
    except OAuth2Error as error:
        return _error(error)
    return _server().create_endpoint_response("introspection")


@bp.post("/revoke")
def revoke():
    """RFC 7009 §2: a client revokes one of its own tokens."""
    try:
        _check_form_request()
    except OAuth2Error as error:
        return _error(error)
    return _server().create_endpoint_response("revocation")


@bp.route("/revocations", methods=["GET", "POST"])
def revocations():
    """The revocation feed for offline verifiers (authenticated as for /introspect).

    GET takes ``since`` in the query and credentials in the ``Authorization`` header
    (Basic or Bearer). POST takes a form body instead (``since`` in it), which is where
    RFC 7521 §4.2 puts a client assertion: a key client reads the feed with POST.
    """
    server = _server()
    try:
        if set(request.args) - {"since"}:
            raise invalid_request(
                "the query string takes only since: send credentials in the Authorization "
                "header, never in the query string (it may be logged)"
            )
        if request.method == "POST":
            _check_form_request()
            since, methods = request.form.get("since"), [BASIC, POST, PRIVATE_KEY_JWT, BEARER]
        else:
            since, methods = request.args.get("since"), [BASIC, BEARER]
        oauth_request = server.create_oauth2_request(None)
        require_introspect(server.authenticate_client(oauth_request, methods))
        if since is not None and not CURSOR.fullmatch(since):
            raise invalid_request("since must be a cursor returned by this feed")
    except OAuth2Error as error:
        return _error(error)
    response = jsonify(revocation_feed.events_since(int(since) if since is not None else None))
    response.headers["Cache-Control"] = "no-store"
    return response
