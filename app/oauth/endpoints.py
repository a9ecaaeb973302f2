"""RFC 7662 introspection and RFC 7009 revocation, through Authlib's endpoint hooks.

Authlib's JWT variants are not used: they keep a revoked client's tokens
active (they check only signature and claims) and answer bad tokens with
``invalid_token`` errors. Here every token
that is not valid right now introspects as exactly ``{"active": false}``.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from app import metrics
from app.oauth.client_auth import BASIC, BEARER, POST, PRIVATE_KEY_JWT, OAuthClient
from app.oauth.errors import InsufficientScope, UnsupportedTokenType, invalid_request
from app.services import access_tokens


class VerifiedToken(dict):
    """Claims of a token that ``access_tokens.verify`` found valid now."""

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return False

    def check_client(self, client: OAuthClient) -> bool:
        return self["client_id"] == client.client_id


def _query_token(token_string: str, token_type_hint: str | None) -> VerifiedToken | None:
    claims = access_tokens.verify(token_string)
    return VerifiedToken(claims) if claims else None


def check_token_params(request, supported: tuple[str, ...]) -> None:
    """``token`` is required; an unknown ``token_type_hint`` is refused (RFC 7009 §2.2.1)."""
    if not request.form.get("token"):
        raise invalid_request("the token parameter is required")
    hint = request.form.get("token_type_hint")
    if hint and hint not in supported:
        raise UnsupportedTokenType(
            description="token_type_hint must be access_token or refresh_token"
        )


def require_introspect(caller: OAuthClient) -> OAuthClient:
    """Only callers holding the ``introspect`` scope may look at tokens and the feed."""
    if "introspect" not in caller.scopes:
        raise InsufficientScope(description="the caller lacks the introspect scope")
    return caller


class IntrospectionEndpoint(_IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = [BASIC, POST, PRIVATE_KEY_JWT, BEARER]

    def authenticate_endpoint_client(self, request):
        return require_introspect(super().authenticate_endpoint_client(request))

    def check_params(self, request, client) -> None:
        check_token_params(request, self.SUPPORTED_TOKEN_TYPES)

    def query_token(self, token_string, token_type_hint):
        token = _query_token(token_string, token_type_hint)
        metrics.introspected(token is not None)
        return token

    def check_permission(self, token, client, request) -> bool:
        return True  # any holder of ``introspect`` may introspect any token

    def introspect_token(self, token: VerifiedToken) -> dict[str, Any]:
        return access_tokens.introspection_payload(token)


class RevocationEndpoint(_RevocationEndpoint):
    CLIENT_AUTH_METHODS = [BASIC, POST, PRIVATE_KEY_JWT]

    def check_params(self, request, client) -> None:
        check_token_params(request, self.SUPPORTED_TOKEN_TYPES)

    def query_token(self, token_string, token_type_hint):
        return _query_token(token_string, token_type_hint)

    def authenticate_token(self, request, client):
        """RFC 7009 §2.1: a valid token of another client is refused and stays active."""
        try:
            return super().authenticate_token(request, client)
        except InvalidGrantError:
            raise InvalidGrantError(
                description="the token was not issued to this client; it was not revoked"
            ) from None

    def revoke_token(self, token: VerifiedToken, request) -> None:
        access_tokens.deny(token)
