"""RFC 6749 §4.4 client-credentials grant, extended through Authlib's hook methods."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError

from app.oauth.client_auth import BASIC, POST, PRIVATE_KEY_JWT
from app.oauth.errors import InvalidTarget, safe
from app.services import access_tokens


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Issues an RFC 9068 JWT; the scope (a subset of the client's, all of them when none is
    asked) and the resource (RFC 8707) are checked here."""

    TOKEN_ENDPOINT_AUTH_METHODS = [BASIC, POST, PRIVATE_KEY_JWT]

    def validate_requested_scope(self) -> None:
        """Runs after client authentication: resolve the scopes and audience of the token."""
        try:
            requested = self.request.payload.scope
            self.scopes = access_tokens.granted_scopes(self.client.snapshot, requested)
        except access_tokens.InvalidScope as exc:
            raise InvalidScopeError(description=safe(exc.message)) from None
        try:
            self.audience = access_tokens.audience_for(self.request.form.getlist("resource"))
        except access_tokens.InvalidTarget as exc:
            raise InvalidTarget(description=safe(exc.message)) from None

    def create_token_response(self):
        """RFC 6749 §5.1: the token response, ``Cache-Control: no-store``; nothing stored."""
        token = access_tokens.issue(self.client.snapshot, self.scopes, self.audience)
        return 200, token, self.TOKEN_RESPONSE_HEADER
