"""Offline verification rate of ``app.resource.Verifier`` on one core (target: 10,000/s).

``python -m bench.verify [--seconds S] [--alg RS256|ES256|EdDSA] [--tokens N]``

A throwaway issuer on loopback (a tiny HTTP server in a thread) publishes the
JWKS and an empty revocation feed. The verifier follows the feed (every
second, as in production) with a warm key cache, in this one thread, over N
distinct tokens round-robin for S seconds, twice:

- ``full``: the verified-token cache off, so every call runs every check
  (``app.security.jwts.verify``: parse, signature, header and claims);
- ``repeat``: the cache on, as a resource service runs it: clients send the
  same token for its lifetime, and a repeated token is only re-checked for
  expiry, its key and revocation.

Rates are per second of this process's CPU time (one core, whatever else
the machine runs) and per wall-clock second. Target: over 10,000 a second.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from app.resource import Verifier
from app.security import jwts
from app.security.key_pairs import KeyPair, generate_private_key

TARGET = 10_000
CLIENT_ID = "bench-client"


def _issuer_handler(jwks: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/.well-known/jwks.json":
                body = jwks
            elif self.path.startswith("/revocations"):
                body = {"events": [], "cursor": "0"}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


def _tokens(key: KeyPair, issuer: str, count: int) -> list[str]:
    now = int(time.time())
    return [
        jwts.sign(
            {
                "iss": issuer,
                "sub": CLIENT_ID,
                "client_id": CLIENT_ID,
                "aud": issuer,
                "scope": "jobs candidates",
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "jti": f"bench-{index}",
            },
            key,
        )
        for index in range(count)
    ]


def measure(alg: str, seconds: float, count: int, cache_size: int) -> tuple[float, float]:
    """(per CPU second, per wall second) for ``alg``, warm key cache, feed followed."""
    key = KeyPair("bench-key", alg, generate_private_key(alg))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _issuer_handler({"keys": [key.public_jwk()]}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        issuer = f"http://127.0.0.1:{server.server_address[1]}"
        tokens = _tokens(key, issuer, count)
        verifier = Verifier(
            issuer, issuer, feed_auth=("bench-reader", "unused"), cache_size=cache_size
        )
        for token in tokens:  # warm: keys fetched, feed read, every token seen once
            verifier.verify(token)
        done = 0
        cpu, wall = time.process_time(), time.perf_counter()
        deadline = wall + seconds
        while time.perf_counter() < deadline:
            for token in tokens:
                verifier.verify(token)
            done += len(tokens)
        return done / (time.process_time() - cpu), done / (time.perf_counter() - wall)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--alg", choices=jwts.ALGORITHMS, action="append")
    parser.add_argument("--tokens", type=int, default=1000)
    args = parser.parse_args()
    print(f"target: over {TARGET:,} verifications/s on one core, warm key cache")
    for alg in args.alg or ["RS256"]:
        for mode, cache_size in (("full", 0), ("repeat", 10 * args.tokens)):
            per_cpu, per_wall = measure(alg, args.seconds, args.tokens, cache_size)
            verdict = "meets" if per_cpu > TARGET else "MISSES"
            print(
                f"{alg} {mode:<6} {per_cpu:>9,.0f} verifications/s per CPU second "
                f"({per_wall:,.0f} per wall second) - {verdict} the target"
            )


if __name__ == "__main__":
    main()
