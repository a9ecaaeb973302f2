"""RFC 8414 server metadata and the RFC 7517 JWKS."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.oauth.client_auth import BASIC, BEARER, POST, PRIVATE_KEY_JWT
from app.security.client_keys import ALLOWED_ALGS
from app.services import catalogue
from app.services.runtime import runtime, settings

bp = Blueprint("metadata", __name__)
JWKS_MAX_AGE = 60


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata():
    """RFC 8414 §2: what this server does and where."""
    issuer = settings().issuer
    return jsonify(
        issuer=issuer,
        token_endpoint=f"{issuer}/token",
        jwks_uri=f"{issuer}/.well-known/jwks.json",
        introspection_endpoint=f"{issuer}/introspect",
        revocation_endpoint=f"{issuer}/revoke",
        grant_types_supported=["client_credentials"],
        response_types_supported=[],
        token_endpoint_auth_methods_supported=[BASIC, POST, PRIVATE_KEY_JWT],
        token_endpoint_auth_signing_alg_values_supported=list(ALLOWED_ALGS),
        introspection_endpoint_auth_methods_supported=[BASIC, POST, PRIVATE_KEY_JWT, BEARER],
        introspection_endpoint_auth_signing_alg_values_supported=list(ALLOWED_ALGS),
        revocation_endpoint_auth_methods_supported=[BASIC, POST, PRIVATE_KEY_JWT],
        revocation_endpoint_auth_signing_alg_values_supported=list(ALLOWED_ALGS),
        scopes_supported=catalogue.all_scopes(),
        access_token_signing_alg_values_supported=[runtime().keys.signing_key().alg],
    )


@bp.get("/.well-known/jwks.json")
def jwks():
    """RFC 7517 §5: the signing key and retired keys whose tokens may still be alive."""
    response = jsonify(keys=[key.public_jwk() for key in runtime().keys.published()])
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response
