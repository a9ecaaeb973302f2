"""``python -m bench``: measure /token and /introspect against a bare Flask endpoint.

For each database (SQLite, and PostgreSQL with ``--postgres URL`` or
``GATEHOUSE_BENCH_DATABASE_URL``) and each signing algorithm (RS256, ES256),
in a fresh throwaway environment, one server at a time on 127.0.0.1:

1. the baseline (``bench.baseline`` under gunicorn, the settings of ``gatehouse serve``);
2. Gatehouse (``python -m app serve``): ``POST /token`` (client credentials, HTTP
   Basic), then ``POST /introspect`` of one token issued before the run.

Each run is wrk with N connections and T threads for D seconds after a short
warm-up. The table gives each rate as a share of the same block's baseline,
next to the SPEC section 6 target. The numbers mean something only on an
otherwise idle machine: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bench import load, report, servers
from bench.environment import (
    BenchError,
    Database,
    Environment,
    PostgresDatabase,
    SqliteDatabase,
)
from bench.report import Row

ALGS = ("RS256", "ES256")
BASELINE_BODY = "grant_type=client_credentials"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n\n")[0].split(": ", 1)[1]
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up seconds per run (1)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--algs",
        default=",".join(ALGS),
        help="signing algorithms, comma-separated (default RS256,ES256)",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("GATEHOUSE_BENCH_DATABASE_URL", "").strip() or None,
        help="also run on this PostgreSQL database (in a scratch schema, dropped after); "
        "default $GATEHOUSE_BENCH_DATABASE_URL",
    )
    parser.add_argument(
        "--no-sqlite", action="store_true", help="skip SQLite (only with --postgres)"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, scripts)")
    parser.add_argument("--verbose", action="store_true", help="print wrk's own output too")
    args = parser.parse_args(argv)
    args.algs = [a.strip() for a in args.algs.split(",") if a.strip()]
    for alg in args.algs:
        if alg not in ("RS256", "ES256", "EdDSA"):
            parser.error(f"unknown algorithm {alg}")
    if args.duration < 1 or args.connections < 1 or args.threads < 1 or args.workers < 1:
        parser.error("--duration, --connections, --threads and --workers must be at least 1")
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections")
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    return args


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def warm_up(self, port: int, path: str, script: Path) -> None:
        a = self.args
        if a.warmup > 0:
            load.run(port, path, script, a.warmup, a.connections, a.threads)

    def measure(self, port: int, path: str, script: Path) -> load.Result:
        a = self.args
        result = load.run(port, path, script, a.duration, a.connections, a.threads)
        if a.verbose:
            print(f"--- wrk {path} ---\n{result.output}", file=sys.stderr)
        return result

    def block(self, database: Database, alg: str) -> None:
        """Baseline, then /token and /introspect, for one database and algorithm."""
        a = self.args
        home = self.tmp / f"{database.label}-{alg}"
        home.mkdir()
        label = f"{database.label}/{alg}"
        progress(f"{label}: baseline")

        port = servers.free_port()
        script = load.write_script(home / "baseline.lua", BASELINE_BODY, None)
        with servers.serving(
            servers.baseline_command(port, a.workers),
            port,
            home / "baseline.log",
            lambda p: servers.request(p, "/", BASELINE_BODY)[0] == 200,
            cwd=home,
        ):
            self.warm_up(port, "/", script)
            base = self.measure(port, "/", script)
        self.rows.append(Row("baseline", database.label, alg, base, base.rate))

        progress(f"{label}: gatehouse init, clients")
        port = servers.free_port()
        try:
            env = Environment(home / "gatehouse", database, alg, port)
            env.prepare()
            assert env.client and env.introspector
            with servers.serving(
                env.serve_command(a.workers),
                port,
                home / "gatehouse.log",
                lambda p: servers.request(p, "/readyz")[0] == 200,
                env=env.env,
                cwd=env.home,
            ) as server:
                token = servers.fetch_token(port, env.client)
                servers.check_introspection(port, env.introspector, token)

                progress(f"{label}: /token")
                script = load.write_script(
                    home / "token.lua", "grant_type=client_credentials", servers.basic(env.client)
                )
                self.warm_up(port, "/token", script)
                before = server.worker_rss()
                result = self.measure(port, "/token", script)
                after = server.worker_rss()
                self.rows.append(Row("/token", database.label, alg, result, base.rate))
                self.notes.append(memory_note(label, before, after, result))

                progress(f"{label}: /introspect")
                script = load.write_script(
                    home / "introspect.lua", f"token={token}", servers.basic(env.introspector)
                )
                self.warm_up(port, "/introspect", script)
                result = self.measure(port, "/introspect", script)
                self.rows.append(Row("/introspect", database.label, alg, result, base.rate))
        finally:
            database.drop()


def memory_note(
    label: str, before: dict[int, int], after: dict[int, int], result: load.Result
) -> str:
    """One line: each worker's VmRSS before and after the /token run."""
    parts = []
    for pid in sorted(before):
        if pid in after:
            change = (after[pid] - before[pid]) / before[pid] if before[pid] else 0.0
            parts.append(
                f"pid {pid} {before[pid] / 1024:.1f} -> {after[pid] / 1024:.1f} MiB ({change:+.1%})"
            )
        else:
            parts.append(f"pid {pid} {before[pid] / 1024:.1f} MiB -> gone (worker restarted?)")
    return f"memory {label}: worker VmRSS around {result.requests:,} /token requests: " + (
        "; ".join(parts) or "no workers found"
    )


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _interrupt(signum: int, _frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGINT and SIGTERM unwind through the finally blocks that stop the servers.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    load.wrk_binary()  # fail before any setup when wrk is missing
    databases: list[Database] = [] if args.no_sqlite else [SqliteDatabase()]
    if args.postgres:
        databases.append(PostgresDatabase(args.postgres))

    facts = report.machine()
    load_before = report.load_average()
    settings = (
        f"gunicorn {args.workers} sync workers, 1 thread, 127.0.0.1; wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s --latency (after {args.warmup} s warm-up)"
    )
    tmp = Path(tempfile.mkdtemp(prefix="gatehouse-bench-"))
    bench = Bench(args, tmp)
    failure = None
    try:
        for database in databases:
            for alg in args.algs:
                bench.block(database, alg)
    except BenchError as exc:
        failure = str(exc)
    except KeyboardInterrupt:
        failure = "interrupted"
    finally:
        if args.keep:
            progress(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    facts.append(("load avg", f"{load_before} before, {report.load_average()} after (1/5/15 min)"))
    if bench.rows:
        print(report.render(facts, settings, bench.rows, bench.notes, args.markdown))
    if failure:
        print(f"\nbench failed: {failure}", file=sys.stderr)
        return 2
    if args.check and any(row.misses for row in bench.rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
