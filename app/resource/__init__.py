"""What a resource service imports: offline verification of Gatehouse access tokens.

A resource service builds one ``Verifier`` at start-up and calls ``verify`` on
every request::

    verifier = Verifier("https://auth.example.com", "https://api.example.com",
                        feed_auth=("CLIENT_ID", "gts_..."))   # a client holding `introspect`
    claims = verifier.verify(bearer_token)      # raises InvalidToken
    require_scope(claims, "jobs")               # raises InsufficientScope

Keys come from the issuer's JWKS (RFC 7517), parsed once and cached by ``kid``;
an unknown ``kid`` triggers a refetch, at most once every ``refetch_interval``
seconds, so a flood of forged kids cannot hammer the issuer. The checks
themselves are ``app.security.jwts.verify``: the fixed algorithm list, ``typ:
at+jwt``, the key's own algorithm, ``iss``, ``aud``, ``exp``, ``nbf`` and the
required claims (RFC 9068 §4).

A client sends the same token with every call for its lifetime, so a token
that passed those checks is remembered (``cache_size`` tokens, keyed by the
exact token string: the same bytes verify the same way). A remembered token
is still re-checked on every call for ``exp``, for its key still being
published, and against the revocations below.

With ``feed_auth`` the verifier also follows ``GET /revocations`` (the
server's revocation feed), at most once every ``feed_interval`` seconds, lazily from
``verify``: tokens of a revoked client, tokens issued before a client's scope
narrowing, and individually revoked ``jti``s are refused. This module is safe
to use from threads; it needs no Flask app and no database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from app.resource.http import basic_auth, get_json
from app.resource.jwks import PublishedKey, parse_jwks
from app.resource.revocations import RevocationState
from app.security import jwts

__all__ = [
    "InsufficientScope",
    "InvalidToken",
    "PublishedKey",
    "Unavailable",
    "Verifier",
    "parse_jwks",
    "require_scope",
]

log = logging.getLogger(__name__)
InvalidToken = jwts.InvalidToken
MAX_FEED_PAGES = 50


class Unavailable(InvalidToken):
    """The issuer's keys (or, with ``feed_max_age``, its revocation feed) could not be fetched.

    A subclass of ``InvalidToken``, so the token is refused either way; a
    service may answer 503 rather than 401 for it.
    """


class InsufficientScope(Exception):
    """The token is valid but lacks a scope this call needs (RFC 6750 §3.1)."""

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = tuple(missing)
        super().__init__(f"the token lacks the scope(s): {' '.join(self.missing)}")


def require_scope(claims: Mapping[str, Any], *needed: str) -> None:
    """Raise ``InsufficientScope`` unless the verified ``claims`` carry every ``needed`` scope."""
    granted = str(claims.get("scope", "")).split()
    missing = [scope for scope in needed if scope not in granted]
    if missing:
        raise InsufficientScope(missing)


class Verifier:
    """Offline verifier of one issuer's access tokens for one audience (or several)."""

    def __init__(
        self,
        issuer: str,
        audience: str | Iterable[str],
        *,
        jwks_uri: str | None = None,
        feed_url: str | None = None,
        feed_auth: tuple[str, str] | None = None,
        leeway: int = 0,
        refetch_interval: float = 10.0,
        keys_max_age: float = 300.0,
        feed_interval: float = 1.0,
        feed_max_age: float | None = None,
        timeout: float = 5.0,
        cache_size: int = 10_000,
    ) -> None:
        """``feed_auth`` is ``(client_id, client_secret)`` of a client holding ``introspect``.

        Without it the feed is not followed. ``feed_max_age``: refuse every
        token (``Unavailable``) once the feed has not been read for that long.
        ``cache_size``: how many verified tokens to remember (0: none).
        """
        self.issuer = issuer.rstrip("/")
        self.audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        self.jwks_uri = jwks_uri or f"{self.issuer}/.well-known/jwks.json"
        self.feed_url = feed_url or f"{self.issuer}/revocations"
        self.leeway = leeway
        self.refetch_interval = refetch_interval
        self.keys_max_age = keys_max_age
        self.feed_interval = feed_interval
        self.feed_max_age = feed_max_age
        self.timeout = timeout
        self.cache_size = cache_size
        self._verified: dict[str, tuple[PublishedKey, dict[str, Any]]] = {}  # token -> key, claims
        self._verified_lock = threading.Lock()
        self._feed_headers = basic_auth(*feed_auth) if feed_auth else None
        self._keys: dict[str, PublishedKey] = {}
        self._keys_at = float("-inf")  # last successful JWKS fetch
        self._keys_tried = float("-inf")  # last JWKS fetch attempt (for the rate limit)
        self._keys_lock = threading.Lock()
        self._revocations = RevocationState()
        self._cursor: str | None = None
        self._feed_due = float("-inf")
        self._feed_ok_at = float("-inf")
        self._feed_lock = threading.Lock()

    # -- the hot path ----------------------------------------------------------
    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token, or raise ``InvalidToken`` saying why."""
        if self._feed_headers is not None:
            self._follow_feed()
        known = self._verified.get(token)
        if known is not None and self._still_good(*known):
            claims = known[1]
        else:
            claims = self._verify_fully(token)
        if self._revocations:
            self._revocations.check(claims)
        return dict(claims)  # a copy: the caller may change it

    def _verify_fully(self, token: str) -> dict[str, Any]:
        used: list[PublishedKey | None] = []

        def find_key(kid: str) -> PublishedKey | None:
            used.append(self.find_key(kid))
            return used[-1]

        claims = jwts.verify(
            token, find_key, issuer=self.issuer, audiences=self.audiences, leeway=self.leeway
        )
        key = used[-1]
        if self.cache_size > 0 and key is not None:  # (never None: verify refuses unknown kids)
            with self._verified_lock:
                if len(self._verified) >= self.cache_size:
                    del self._verified[next(iter(self._verified))]  # the oldest
                self._verified[token] = (key, claims)
        return claims

    def _still_good(self, key: PublishedKey, claims: dict[str, Any]) -> bool:
        """A remembered token: unexpired (time only helps ``nbf``), its very key still published."""
        return claims["exp"] > time.time() - self.leeway and self.find_key(key.kid) is key

    def find_key(self, kid: str) -> PublishedKey | None:
        """The published key ``kid``; fetches the JWKS when unknown or stale (rate-limited)."""
        key = self._keys.get(kid)
        if key is not None and time.monotonic() - self._keys_at < self.keys_max_age:
            return key
        with self._keys_lock:
            if time.monotonic() - self._keys_tried >= self.refetch_interval:
                self._fetch_keys()
        if not self._keys:
            raise Unavailable(f"no signing keys could be fetched from {self.jwks_uri}")
        return self._keys.get(kid)

    # -- keys ------------------------------------------------------------------
    def refresh_keys(self) -> None:
        """Fetch the JWKS now (ignoring the rate limit) and replace the cached keys."""
        with self._keys_lock:
            self._fetch_keys()

    def _fetch_keys(self) -> None:
        """Caller holds ``_keys_lock``. On failure the previous keys are kept."""
        self._keys_tried = time.monotonic()
        try:
            keys = parse_jwks(self._get_json(self.jwks_uri, {}))
        except Exception as exc:  # noqa: BLE001 - network, HTTP or JSON: all the same here
            log.warning("fetching the JWKS from %s failed: %s", self.jwks_uri, exc)
            return
        self._keys, self._keys_at = keys, time.monotonic()

    # -- revocation feed ---------------------------------------------------------
    def sync_revocations(self) -> None:
        """Read the revocation feed now, from the last cursor (``verify`` does it when due)."""
        if self._feed_headers is None:
            raise ValueError("the revocation feed needs feed_auth (a client holding introspect)")
        with self._feed_lock:
            self._sync()

    def _follow_feed(self) -> None:
        """Read the feed when due; refuse everything if it has been unreadable too long."""
        now = time.monotonic()
        # The first read is waited for (no token passes before the feed is known);
        # later, one thread reads while the others go on with the state they have.
        first = self._feed_ok_at == float("-inf")
        if now >= self._feed_due and self._feed_lock.acquire(blocking=first):
            try:
                if time.monotonic() >= self._feed_due:
                    self._sync()
            finally:
                self._feed_lock.release()
        if self.feed_max_age is not None and now - self._feed_ok_at > self.feed_max_age:
            raise Unavailable("the revocation feed has not been readable for too long")

    def _sync(self) -> None:
        """Caller holds ``_feed_lock``. On failure the known state is kept and retried later."""
        self._feed_due = time.monotonic() + self.feed_interval
        try:
            self._read_feed()
        except Exception as exc:  # noqa: BLE001 - network, HTTP or JSON: all the same here
            log.warning("reading the revocation feed %s failed: %s", self.feed_url, exc)
        else:
            self._feed_ok_at = time.monotonic()

    def _read_feed(self) -> None:
        for _ in range(MAX_FEED_PAGES):
            query = "" if self._cursor is None else "?" + urlencode({"since": self._cursor})
            page = self._get_json(self.feed_url + query, self._feed_headers or {})
            events, cursor = page["events"], str(page["cursor"])
            for event in events:
                self._revocations.apply(event)
            more = bool(events) and cursor != self._cursor
            self._cursor = cursor
            if not more:
                break
        self._revocations.forget_old_jtis()

    def _get_json(self, url: str, headers: Mapping[str, str]) -> Any:
        return get_json(url, headers, self.timeout)
