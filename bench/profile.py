"""``python -m bench.profile``: where one worker's CPU goes on /token or /introspect.

It builds the same throwaway environment as ``python -m bench`` (SQLite),
then calls the WSGI app N times in this process, once timed and once under
cProfile, and prints the CPU time per request and the top functions. No
server and no network: ``baseline`` does the same for the bare Flask app.
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
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from werkzeug.test import EnvironBuilder

from bench.client import basic
from bench.environment import Environment, SqliteDatabase


def wsgi_caller(app: Flask, path: str, body: str, headers: dict[str, str]) -> Callable[[], None]:
    """A function making one POST straight into the WSGI app (no test-client overhead)."""
    data = body.encode()
    environ = EnvironBuilder(path=path, method="POST", data=data, headers=headers).get_environ()
    statuses: list[str] = []

    def start_response(status: str, _headers, _exc_info=None) -> None:
        statuses.append(status)

    def call() -> None:
        statuses.clear()
        request_environ = dict(environ, **{"wsgi.input": io.BytesIO(data)})
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("endpoint", choices=["baseline", "token", "introspect"])
    parser.add_argument("--alg", default="RS256", choices=["RS256", "ES256", "EdDSA"])
    parser.add_argument("-n", type=int, default=2000, help="requests to profile (2000)")
    parser.add_argument("--top", type=int, default=30, help="functions to list (30)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="gatehouse-profile-"))
    try:
        env = Environment(tmp / "gatehouse", SqliteDatabase(), args.alg, 8000)
        env.prepare()
        assert env.client and env.introspector
        from app import create_app

        app = create_app({k: v for k, v in env.env.items() if k.startswith("GATEHOUSE_")})
        target = app
        http = app.test_client()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        token_headers = form | {"Authorization": basic(env.client)}
        answer = http.post("/token", data="grant_type=client_credentials", headers=token_headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        if args.endpoint == "baseline":
            from bench.baseline import app as baseline_app

            target = baseline_app
            path, body, headers = "/", "grant_type=client_credentials", form
        elif args.endpoint == "token":
            path, body, headers = "/token", "grant_type=client_credentials", token_headers
        else:
            token = answer.get_json()["access_token"]
            path, body = "/introspect", f"token={token}"
            headers = form | {"Authorization": basic(env.introspector)}

        call = wsgi_caller(target, path, body, headers)
        for _ in range(min(200, args.n)):  # warm caches
            call()
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.n):
            call()
        plain = (time.perf_counter() - started) / args.n
        cpu = (time.process_time() - cpu) / args.n
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.n):
            call()
        profiler.disable()
        print(
            f"POST {path} ({args.alg}, WSGI call, no server): unprofiled {plain * 1e6:.0f} us "
            f"wall, {cpu * 1e6:.0f} us CPU per request = {1 / cpu:,.0f}/s per core"
        )
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
