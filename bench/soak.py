"""``python -m bench.soak``: does ``gatehouse serve`` hold up? (a benchmark, not a test).

Against ``python -m app serve --access-log`` (its default server, or
``--server S``) with a throwaway environment, one server after another only
if one dies:

1. memory: N ``/token`` requests (wrk, 200,000 by default) with every
   worker's VmRSS sampled each second; after the warm-up it stays within 5%;
2. SIGKILL one worker while wrk loads the server: it is replaced (a new
   pid) and a probe loop of ``/token`` requests sees no gap longer than
   ``--max-gap`` after the kill;
3. SIGTERM to the server's main process while wrk loads it: it exits before
   the deadline after which it would kill a busy worker (so none was cut
   short), no response fails, and every request the application handled (its
   access log counts them) was answered. New connections refused after the
   shutdown, and connections closed on requests the application never read
   (queued in the kernel: safe to retry), are counted apart;
4. logs: every line the server wrote, access and error log, is one JSON object.

Prints PASS or FAIL per check; exit status 1 if any check failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import client, kinds, load, procs, servers
from bench.environment import BenchError, Database, Environment, PostgresDatabase, SqliteDatabase
from bench.soak_checks import (
    Check,
    Memory,
    Probe,
    error_summary,
    json_lines,
    mib,
    sigterm_verdict,
    token_accesses,
)

PHASES = ("memory", "sigkill", "sigterm")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    add = parser.add_argument
    add("--requests", type=int, default=200_000, help="/token requests to send (200000)")
    add("--warmup-requests", type=int, default=20_000, help="before the reference RSS (20000)")
    add("--rss-limit", type=float, default=0.05, help="allowed RSS growth (0.05 = 5%%)")
    add("--chunk", type=int, default=10, help="seconds per wrk run in the memory phase (10)")
    add("--max-gap", type=float, default=0.5, help="longest probe gap after SIGKILL (0.5 s)")
    add("--connections", type=int, default=32, help="wrk connections (32)")
    add("--threads", type=int, default=2, help="wrk threads (2)")
    add("--workers", type=int, default=2, help="gatehouse serve --workers (2)")
    add("--server", help="gatehouse serve --server SERVER (default: serve's own default)")
    add("--postgres", metavar="URL", help="run on this PostgreSQL database (a scratch schema)")
    add("--phases", default="memory,sigkill,sigterm", help="which, in order (all three)")
    add("--keep", action="store_true", help="keep the temp dir (logs, probe timeline)")
    args = parser.parse_args(argv)
    if args.workers < 2:
        parser.error("--workers must be at least 2 (one is killed while the other answers)")
    if args.warmup_requests >= args.requests:
        parser.error("--warmup-requests must be below --requests")
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not args.phases or set(args.phases) - set(PHASES):
        parser.error(f"--phases takes a list of {', '.join(PHASES)}")
    return args


def say(message: str) -> None:
    print(f"soak: {message}", file=sys.stderr, flush=True)


class Soak:
    def __init__(
        self, args: argparse.Namespace, env: Environment, home: Path, kind: kinds.Kind
    ) -> None:
        assert env.client
        self.args, self.env, self.home, self.kind = args, env, home, kind
        self.port = int(env.env["GATEHOUSE_ISSUER"].rsplit(":", 1)[1])
        self.url = client.url(self.port, "/token")
        self.script = load.write_script(
            home / "token.lua", client.GRANT_FORM, client.basic(env.client)
        )
        self.logs: list[Path] = []
        self.server: servers.Server | None = None

    def serving(self) -> servers.Server:
        """The server, started (again) if it is not running."""
        if self.server and self.server.alive():
            return self.server
        command = kinds.serve_command(self.port, self.args.workers, self.args.server, True)
        self.server = servers.start(
            f"serve-{len(self.logs) // 2 + 1}", command, self.port, self.home, self.env.env,
            self.env.home,
        )  # fmt: skip
        self.logs += self.server.logs
        self.server.wait_ready(lambda: client.answers(client.url(self.port, "/readyz")))
        deadline = time.monotonic() + 30  # every worker up, not only the first
        while len(self.server.workers()) < self.args.workers and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.server

    def wrk(self, seconds: float) -> load.Load:
        a = self.args
        return load.Load(self.url, self.script, seconds, a.connections, a.threads)

    def memory(self) -> Check:
        server, a = self.serving(), self.args
        record = Memory(a.rss_limit, a.warmup_requests)
        record.add(0, server.workers_rss())
        served, results = 0, []
        while served < a.requests:
            run = self.wrk(a.chunk)
            try:
                while run.process.poll() is None:
                    time.sleep(1)
                    record.add(served, server.workers_rss())
                result = run.finish()
            finally:
                run.kill()
            served += result.requests
            results.append(result)
            record.add(served, server.workers_rss())
            sizes = ", ".join(mib(k) for k in record.samples[-1][1].values())
            errors = sum(r.errors for r in results)
            say(f"memory: {served:,}/{a.requests:,} requests, {errors} errors; RSS {sizes}")
        ok, details = record.judge()
        details.insert(0, f"{served:,} POST /token requests, errors: {error_summary(results)}")
        return Check("memory flat over the soak", ok and errors == 0, details)

    def sigkill(self) -> Check:
        server = self.serving()
        procs.wait_idle(server.pid)
        before = server.workers()
        if not before:
            return Check("SIGKILL a worker under load", False, ["found no worker process"])
        probe = Probe(self.url, self.env.client)
        probe.start()
        run = self.wrk(10)
        try:
            time.sleep(2)
            victim, killed = before[0], time.monotonic()
            os.kill(victim, signal.SIGKILL)
            say(f"SIGKILL worker {victim}")
            replaced = None
            while time.monotonic() - killed < 30 and server.alive():
                now = server.workers()
                if len(now) >= len(before) and set(now) - set(before):
                    replaced = (sorted(set(now) - set(before)), time.monotonic() - killed)
                    break
                time.sleep(0.05)
            result = run.finish()
            time.sleep(0.5)  # probes after the load, too
        finally:
            run.kill()
            probe.stop()
        probe.save(self.home / "probe.tsv", killed)
        normal, gap, oks, fails, failures = probe.gaps(killed)
        failed = f"{fails} failed" + (f" ({', '.join(failures)})" if failures else "")
        alive = server.alive()
        details = [
            f"killed worker {victim} of {before} under load",
            f"replaced by {replaced[0]} after {replaced[1]:.2f} s"
            if replaced
            else "NOT replaced within 30 s",
            f"probe: longest gap {gap:.2f} s after the kill (limit {self.args.max_gap} s; "
            f"{normal:.2f} s before it), {oks} answered, {failed}",
            f"wrk: {result.requests:,} responses, errors: {error_summary([result])} "
            "(connections of the killed worker close before a response: expected)",
            "server still running" if alive else "the whole server EXITED",
        ]
        ok = bool(replaced) and alive and oks > 0 and gap <= self.args.max_gap
        ok = ok and not result.non200  # a worker's death fails no other request
        return Check("SIGKILL a worker under load", ok, details)

    def sigterm(self) -> Check:
        server = self.serving()
        procs.wait_idle(server.pid)
        offsets = {path: path.stat().st_size for path in server.logs}
        run = self.wrk(120)
        try:
            time.sleep(2)
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            say(f"SIGTERM server {server.pid}")
            try:
                code = server.process.wait(40)
            except subprocess.TimeoutExpired:  # reported; stopped with SIGKILL at the end
                code = None
            took = time.monotonic() - signalled
            time.sleep(0.5)  # new connections now meet a closed port
            run.interrupt()
            result = run.finish()
        finally:
            run.kill()
        handled = sum(token_accesses(path, offsets[path]) for path in server.logs)
        return sigterm_verdict(result, handled, code, took, self.kind.kill_after)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    servers.stop_on_signals()
    load.wrk_binary()
    database: Database = PostgresDatabase(args.postgres) if args.postgres else SqliteDatabase()
    tmp = Path(tempfile.mkdtemp(prefix="gatehouse-soak-"))
    checks: list[Check] = []
    soak = None
    try:
        default, choices = kinds.serve_default()
        if args.server and args.server not in choices:
            raise BenchError(f"this gatehouse serve has no --server {args.server}")
        kind = kinds.for_serve(args.server or default)
        say(f"gatehouse serve ({kind.label}) on {database.label}, {args.workers} workers")
        env = Environment(tmp / "gatehouse", database, "RS256", servers.free_port())
        env.prepare()
        soak = Soak(args, env, tmp, kind)
        for phase in args.phases:
            checks.append(getattr(soak, phase)())
            print(checks[-1].render(), flush=True)
    except (BenchError, KeyboardInterrupt) as exc:
        checks.append(Check("the soak ran to its end", False, [str(exc) or "interrupted"]))
        print(checks[-1].render(), flush=True)
    finally:
        if soak and soak.server:
            soak.server.stop()
        database.drop()
    if soak and soak.logs:
        checks.append(json_lines(soak.logs))
        print(checks[-1].render())
    if args.keep:
        say(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    failed = [c.name for c in checks if not c.passed]
    print(f"\nsoak: {'FAIL: ' + '; '.join(failed) if failed else 'PASS: every check'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
