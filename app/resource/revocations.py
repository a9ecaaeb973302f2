"""What the revocation feed has said so far, and whether it refuses a token.

A ``client`` event without ``not_before`` revokes the client; with it, the
client's scopes were narrowed to the event's ``scope`` at ``not_before``:
tokens issued before it are dead, and for ``NARROWING_WINDOW`` seconds after
it so are tokens still carrying a removed scope (a server worker may issue
with the scopes it cached a moment longer). A ``token`` event revokes one
``jti``, remembered for ``JTI_MEMORY`` seconds, the longest token lifetime.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from app.security.jwts import InvalidToken

JTI_MEMORY = 86_400
NARROWING_WINDOW = 2


class RevocationState:
    def __init__(self) -> None:
        self._revoked_clients: set[str] = set()
        #: client -> (not_before, scopes it kept) from its latest scope narrowing
        self._narrowed: dict[str, tuple[int, frozenset[str] | None]] = {}
        self._revoked_jtis: dict[str, int] = {}

    def __bool__(self) -> bool:
        """Whether anything was revoked at all (most of the time, nothing is)."""
        return bool(self._revoked_clients or self._narrowed or self._revoked_jtis)

    def apply(self, event: Mapping[str, Any]) -> None:
        """Take in one event of ``GET /revocations``."""
        client_id = event["client_id"]
        if event["type"] == "token" and event.get("jti"):
            self._revoked_jtis[event["jti"]] = int(event["revoked_at"])
        elif event["type"] == "client" and event.get("not_before") is None:
            self._revoked_clients.add(client_id)
        elif event["type"] == "client":
            moment = int(event["not_before"])
            kept = frozenset(event["scope"].split()) if "scope" in event else None
            if moment >= self._narrowed.get(client_id, (moment, None))[0]:
                self._narrowed[client_id] = (moment, kept)

    def check(self, claims: Mapping[str, Any]) -> None:
        """Raise ``InvalidToken`` if the feed revoked this token, its client, or its scopes."""
        client_id = claims["client_id"]
        if client_id in self._revoked_clients:
            raise InvalidToken("the client of this token is revoked")
        narrowed = self._narrowed.get(client_id)
        if narrowed is not None:
            not_before, kept = narrowed
            if claims["iat"] < not_before:
                raise InvalidToken("the token predates a change of its client's scopes")
            removed = kept is not None and not set(claims["scope"].split()) <= kept
            if removed and claims["iat"] < not_before + NARROWING_WINDOW:
                raise InvalidToken("the token carries a scope its client no longer holds")
        if claims["jti"] in self._revoked_jtis:
            raise InvalidToken("the token is revoked")

    def forget_old_jtis(self) -> None:
        """Drop jtis revoked longer ago than any token lives."""
        horizon = time.time() - JTI_MEMORY
        if any(at < horizon for at in self._revoked_jtis.values()):
            self._revoked_jtis = {j: at for j, at in self._revoked_jtis.items() if at >= horizon}
