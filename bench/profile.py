"""``python -m bench.profile``: where one worker's CPU goes on /token or /introspect.

It builds the same throwaway environment as ``python -m bench`` (SQLite, or a scratch
schema with ``--postgres URL``), then calls the WSGI app N times in this process, once
timed and once under cProfile, and prints the CPU time per request and the top
functions. No server and no network: ``baseline`` and ``sign`` do the same for the bare
Flask app's ``POST /`` and ``POST /sign``.
``--evict MB`` overwrites that much memory before each timed request, as a loaded server's
other processes do to the cache between two requests of one worker: warm timings hide
what code costs when it has left the cache.
``token-jwt`` is ``/token`` for a key client (``private_key_jwt``): every request
carries a new ES256 assertion, signed beforehand, so its ``jti`` is remembered once
each (in the database, or in Redis with ``--redis URL``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.test import EnvironBuilder

from bench.client import basic
from bench.environment import Environment, PostgresDatabase, SqliteDatabase


def wsgi_caller(
    app: Flask, path: str, body: str | Iterator[str], headers: dict[str, str]
) -> Callable[[], None]:
    """A function making one POST straight into the WSGI app (no test-client overhead);
    ``body`` is the same for every call, or the next of an iterator each time."""
    bodies = None if isinstance(body, str) else body
    data = body.encode() if isinstance(body, str) else b""
    environ = EnvironBuilder(path=path, method="POST", data=data, headers=headers).get_environ()
    statuses: list[str] = []

    def start_response(status: str, _headers, _exc_info=None) -> None:
        statuses.append(status)

    def call() -> None:
        statuses.clear()
        payload = data if bodies is None else next(bodies).encode()
        request_environ = dict(
            environ, **{"wsgi.input": io.BytesIO(payload), "CONTENT_LENGTH": str(len(payload))}
        )
        result = app(request_environ, start_response)
        try:
            for _ in result:
                pass
        finally:
            if hasattr(result, "close"):
                result.close()
        if not statuses or not statuses[0].startswith("200"):
            raise SystemExit(f"{path} answered {statuses[:1]}")

    return call


ENDPOINTS = ["baseline", "sign", "token", "token-jwt", "introspect"]


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose the request (shared with ``bench.instructions``)."""
    parser.add_argument("endpoint", choices=ENDPOINTS)
    parser.add_argument("--alg", default="RS256", choices=["RS256", "ES256", "EdDSA"])
    parser.add_argument(
        "--metrics",
        choices=["served", "process"],
        default="served",
        help="count metrics as a served worker does, in memory-mapped files (served, the "
        "default), or in this process's memory (process)",
    )
    parser.add_argument("--postgres", metavar="URL", help="a scratch schema in this database")
    parser.add_argument("--redis", metavar="URL", help="GATEHOUSE_REDIS_URL for the app")


@contextmanager
def prepared(args: argparse.Namespace, assertions: int) -> Iterator[tuple[str, Callable[[], None]]]:
    """A throwaway environment and (path, a function making one request of ``args.endpoint``);
    ``token-jwt`` gets ``assertions`` fresh assertions, one per request."""
    tmp = Path(tempfile.mkdtemp(prefix="gatehouse-profile-"))
    database = PostgresDatabase(args.postgres) if args.postgres else SqliteDatabase()
    try:
        env = Environment(tmp / "gatehouse", database, args.alg, 8000)
        env.prepare()
        assert env.client and env.introspector
        if args.redis:
            env.env["GATEHOUSE_REDIS_URL"] = args.redis
        from app import create_app, metrics

        if args.metrics == "served":  # as `gatehouse serve` sets up its workers
            metrics.prepare_for_server(tmp / "gatehouse" / "instance", "profile")

        app = create_app({k: v for k, v in env.env.items() if k.startswith("GATEHOUSE_")})
        target = app
        http = app.test_client()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        token_headers = form | {"Authorization": basic(env.client)}
        answer = http.post("/token", data="grant_type=client_credentials", headers=token_headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        if args.endpoint in ("baseline", "sign"):
            from bench.baseline import app as baseline_app

            target = baseline_app
            path = "/" if args.endpoint == "baseline" else "/sign"
            body, headers = "grant_type=client_credentials", form
        elif args.endpoint == "token":
            path, body, headers = "/token", "grant_type=client_credentials", token_headers
        elif args.endpoint == "token-jwt":
            path, body, headers = "/token", assertion_bodies(env, assertions), form
        else:
            token = answer.get_json()["access_token"]
            path, body = "/introspect", f"token={token}"
            headers = form | {"Authorization": basic(env.introspector)}
        yield path, wsgi_caller(target, path, body, headers)
    finally:
        database.drop()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    add_request_arguments(parser)
    parser.add_argument("-n", type=int, default=2000, help="requests to profile (2000)")
    parser.add_argument("--top", type=int, default=30, help="functions to list (30)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative)")
    parser.add_argument(
        "--evict",
        type=int,
        default=0,
        metavar="MB",
        help="overwrite MB of memory before each timed request (0, the default: warm caches)",
    )
    args = parser.parse_args(argv)

    with prepared(args, 200 + 2 * args.n) as (path, call):
        for _ in range(min(200, args.n)):  # warm caches
            call()
        plain, cpu = timed(call, args.n, args.evict)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.n):
            call()
        profiler.disable()
        cache = f", {args.evict} MB evicted before each" if args.evict else ""
        print(
            f"POST {path} ({args.alg}, WSGI call, no server{cache}): unprofiled "
            f"{plain * 1e6:.0f} us wall, {cpu * 1e6:.0f} us CPU per request = "
            f"{1 / cpu:,.0f}/s per core"
        )
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


def timed(call: Callable[[], None], count: int, evict_mb: int) -> tuple[float, float]:
    """Wall and CPU seconds per request over ``count`` calls; with ``evict_mb``, each call
    comes after that much memory is overwritten (not timed): one byte per 64-byte cache
    line, alternating values so every line is really written."""
    scratch = bytearray(evict_mb << 20)
    lines = len(scratch[::64])
    fills = (b"\x01" * lines, b"\x02" * lines)
    wall = cpu = 0
    for number in range(count):
        if lines:
            scratch[::64] = fills[number & 1]
        started, cpu_started = time.perf_counter_ns(), time.process_time_ns()
        call()
        cpu += time.process_time_ns() - cpu_started
        wall += time.perf_counter_ns() - started
    return wall / count / 1e9, cpu / count / 1e9


def assertion_bodies(env: Environment, count: int) -> Iterator[str]:
    """``count`` token requests of a new key client, each with its own ES256 assertion."""
    from urllib.parse import urlencode

    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = env.home / "client-key.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    expires = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))
    client_id = env.gatehouse(
        "clients", "create", "--owner", "owner@bench.example", "--name", "bench key client",
        "--services", "jobs", "--expires", expires, "--jwks", str(pem),
    )["client_id"]  # fmt: skip
    now, issuer = int(time.time()), env.env["GATEHOUSE_ISSUER"]
    kind = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    bodies = []
    for number in range(count):
        claims = {"iss": client_id, "sub": client_id, "aud": issuer, "iat": now}
        claims |= {"exp": now + 3600, "jti": f"bench-{number}"}
        bodies.append(
            urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_assertion_type": kind,
                    "client_assertion": jwt.encode(claims, key, algorithm="ES256"),
                }
            )
        )
    return iter(bodies)


if __name__ == "__main__":
    sys.exit(main())
