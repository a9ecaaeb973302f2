"""``python -m bench``: measure /token and /introspect against a bare Flask endpoint.

For each database (SQLite, and PostgreSQL with ``--postgres URL`` or
``GATEHOUSE_BENCH_DATABASE_URL``) and each signing algorithm (RS256, ES256),
in a fresh throwaway environment, two servers on 127.0.0.1, loaded one at a time:

1. the baseline (``bench.baseline`` under gunicorn, the settings of ``gatehouse serve``);
2. Gatehouse (``python -m app serve``): ``POST /token`` (client credentials, HTTP
   Basic) and ``POST /introspect`` of one token issued before the runs.

Each run is wrk with N connections and T threads for D seconds after a short
warm-up, in rounds: baseline, /token, baseline, /introspect, R times. The
table shows each scenario's median run and its rate as a share of the
block's median baseline, next to the performance target, and the CPU the
server's workers spent per request (the rest of the machine went to wrk and
the kernel). The numbers mean something only on an otherwise idle machine:
the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass, replace
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
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved runs of each scenario; medians (3)"
    )
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
    if min(args.duration, args.connections, args.threads, args.workers, args.rounds) < 1:
        parser.error(
            "--duration, --connections, --threads, --workers and --rounds must be at least 1"
        )
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections")
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    return args


@dataclass(frozen=True)
class Sample:
    """One wrk run and the server CPU it cost."""

    result: load.Result
    cpu_us: float  # the server's workers, user + system, per request


def typical(samples: list[Sample]) -> Sample:
    """The run of median rate, carrying the errors of every run."""
    ranked = sorted(samples, key=lambda sample: sample.result.rate)
    middle = ranked[(len(ranked) - 1) // 2]
    failed = [s.result for s in samples if s.result.errors]
    result = replace(
        middle.result,
        non200=sum(r.non200 for r in failed),
        socket_errors=sum(r.socket_errors for r in failed),
        last_status=next((r.last_status for r in failed if r.last_status), 0),
    )
    return Sample(result, middle.cpu_us)


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def measure(self, server: servers.Server, path: str, script: Path) -> Sample:
        """A warm-up, then one timed wrk run against ``server``."""
        a = self.args
        if a.warmup > 0:
            load.run(server.port, path, script, a.warmup, a.connections, a.threads)
        cpu_before = server.worker_cpu_seconds()
        result = load.run(server.port, path, script, a.duration, a.connections, a.threads)
        cpu = server.worker_cpu_seconds() - cpu_before
        if a.verbose:
            print(f"--- wrk {path} ---\n{result.output}", file=sys.stderr)
        return Sample(result, cpu * 1e6 / result.requests if result.requests else 0.0)

    def block(self, database: Database, alg: str) -> None:
        """Both servers up; baseline, /token, baseline, /introspect, ``--rounds`` times.

        Interleaving keeps a drift in the machine's speed (a noisy VM) out of
        the ratios: each scenario is compared with baseline runs made around it.
        """
        a = self.args
        home = self.tmp / f"{database.label}-{alg}"
        home.mkdir()
        label = f"{database.label}/{alg}"
        progress(f"{label}: gatehouse init, clients")
        base_port, port = servers.free_port(), servers.free_port()
        try:
            env = Environment(home / "gatehouse", database, alg, port)
            env.prepare()
            with (
                servers.serving(
                    servers.baseline_command(base_port, a.workers),
                    base_port,
                    home / "baseline.log",
                    lambda p: servers.request(p, "/", BASELINE_BODY)[0] == 200,
                    cwd=home,
                ) as baseline,
                servers.serving(
                    env.serve_command(a.workers),
                    port,
                    home / "gatehouse.log",
                    lambda p: servers.request(p, "/readyz")[0] == 200,
                    env=env.env,
                    cwd=env.home,
                ) as server,
            ):
                self.rounds(database, alg, env, baseline, server)
        finally:
            database.drop()

    def rounds(
        self,
        database: Database,
        alg: str,
        env: Environment,
        baseline: servers.Server,
        server: servers.Server,
    ) -> None:
        assert env.client and env.introspector
        home = env.home.parent
        token = servers.fetch_token(server.port, env.client)
        servers.check_introspection(server.port, env.introspector, token)
        scripts = {
            "baseline": load.write_script(home / "baseline.lua", BASELINE_BODY, None),
            "/token": load.write_script(
                home / "token.lua", "grant_type=client_credentials", servers.basic(env.client)
            ),
            "/introspect": load.write_script(
                home / "introspect.lua", f"token={token}", servers.basic(env.introspector)
            ),
        }
        samples: dict[str, list[Sample]] = {name: [] for name in scripts}
        label, total = f"{database.label}/{alg}", self.args.rounds
        for number in range(1, total + 1):
            for scenario in ("/token", "/introspect"):
                progress(f"{label}: round {number}/{total}: baseline, {scenario}")
                samples["baseline"].append(self.measure(baseline, "/", scripts["baseline"]))
                samples[scenario].append(self.measure(server, scenario, scripts[scenario]))
                if number == 1 and scenario == "/token":
                    rss_before = server.worker_rss()  # every worker has served: measure from here
        rss_after = server.worker_rss()
        base = typical(samples["baseline"])
        for scenario, runs in samples.items():
            sample = typical(runs)
            self.rows.append(
                Row(scenario, database.label, alg, sample.result, base.result.rate, sample.cpu_us)
            )
        served = [s.result.requests for s in samples["/token"][1:] + samples["/introspect"]]
        self.notes.append(memory_note(label, rss_before, rss_after, sum(served)))


def memory_note(label: str, before: dict[int, int], after: dict[int, int], requests: int) -> str:
    """One line: each worker's VmRSS after the first timed run and after the last."""
    parts = []
    for pid in sorted(before):
        if pid in after:
            change = (after[pid] - before[pid]) / before[pid] if before[pid] else 0.0
            parts.append(
                f"pid {pid} {before[pid] / 1024:.1f} -> {after[pid] / 1024:.1f} MiB ({change:+.1%})"
            )
        else:
            parts.append(f"pid {pid} {before[pid] / 1024:.1f} MiB -> gone (worker restarted?)")
    counted = f"{requests:,} more /token and /introspect requests"
    return f"memory {label}: worker VmRSS over {counted}: " + ("; ".join(parts) or "no workers")


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
        f"-c{args.connections} -d{args.duration}s --latency (after {args.warmup} s warm-up); "
        f"{args.rounds} interleaved rounds, medians"
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
