"""``python -m bench``: Gatehouse beside node oidc-provider, with bare Flask as a yardstick.

For each database (SQLite, and PostgreSQL with ``--postgres URL`` or
``GATEHOUSE_BENCH_DATABASE_URL``) and each signing algorithm (RS256, ES256),
in a fresh throwaway environment, servers on 127.0.0.1 loaded one at a time:

1. oidc-provider (one node process from ``../shared/peers``, RS256 in every
   block): ``/token`` for an RS256 JWT, introspection of an opaque token;
2. bare Flask (``bench.baseline``) on the same server and settings as Gatehouse:
   ``POST /``, and in RS256 blocks ``POST /sign`` (the same plus one signature);
3. Gatehouse: ``POST /token`` (client credentials, HTTP Basic) and
   ``POST /introspect`` of a token it issued.

By default Gatehouse runs as ``python -m app serve`` (its default server, or
``--server S``). ``--servers granian,gunicorn,gunicorn-fast`` instead launches
bare Flask and Gatehouse directly under each of those servers, side by side in
the same rounds, to choose between them. See bench/rounds.py for the rounds
and bench/report.py for the table and the targets.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench import kinds, load, machine, peer, report, servers, signature
from bench.block import run_block
from bench.environment import BenchError, Database, PostgresDatabase, SqliteDatabase
from bench.rounds import progress

ALGS = ("RS256", "ES256")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n\n")[0].split(": ", 1)[1]
    )
    add = parser.add_argument
    add("--duration", type=int, default=10, help="seconds per timed run (10)")
    add("--warmup", type=int, default=1, help="warm-up seconds before each run (1)")
    add("--rounds", type=int, default=3, help="interleaved rounds; medians (3)")
    add("--connections", type=int, default=32, help="wrk connections (32)")
    add("--threads", type=int, default=2, help="wrk threads (2)")
    add("--workers", type=int, default=2, help="workers of each Python server (2)")
    add("--algs", default=",".join(ALGS), help="signing algorithms (RS256,ES256)")
    add("--server", help="gatehouse serve --server SERVER (default: serve's own default)")
    add("--servers", help="compare server kinds instead: " + ",".join(kinds.NAMES))
    add("--peers", type=Path, default=peer.FOLDER, help=f"peer folder ({peer.FOLDER})")
    add("--no-peer", action="store_true", help="do not run oidc-provider")
    add(
        "--postgres",
        metavar="URL",
        default=os.environ.get("GATEHOUSE_BENCH_DATABASE_URL", "").strip() or None,
        help="also run on this PostgreSQL database (in a scratch schema, dropped after); "
        "default $GATEHOUSE_BENCH_DATABASE_URL",
    )
    add("--no-sqlite", action="store_true", help="skip SQLite (only with --postgres)")
    add("--markdown", action="store_true", help="print the table as Markdown")
    add("--check", action="store_true", help="exit 1 if a target is missed or not judged")
    add("--keep", action="store_true", help="keep the temp dir (logs, scripts)")
    add("--verbose", action="store_true", help="print wrk's own output too")
    args = parser.parse_args(argv)
    args.algs = [a.strip() for a in args.algs.split(",") if a.strip()]
    for alg in args.algs:
        if alg not in ("RS256", "ES256", "EdDSA"):
            parser.error(f"unknown algorithm {alg}")
    if min(args.duration, args.connections, args.threads, args.workers, args.rounds) < 1:
        parser.error("--duration, --connections, --threads, --workers, --rounds must be >= 1")
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections")
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    if args.server and args.servers:
        parser.error("--server (gatehouse serve) and --servers (direct launch) exclude each other")
    try:
        args.kinds = [kinds.named(n.strip()) for n in (args.servers or "").split(",") if n.strip()]
    except ValueError as exc:
        parser.error(str(exc))
    return args


def choose_kinds(args: argparse.Namespace, notes: list[str]) -> tuple[list[kinds.Kind], str]:
    """The server kinds to run and a line describing how Gatehouse is launched."""
    if args.kinds:
        usable = []
        for kind in args.kinds:
            if why := kind.missing():
                notes.append(f"skipped server {kind.name}: {why}")
                progress(f"skipping {kind.name}: {why}")
            else:
                usable.append(kind)
        if not usable:
            raise BenchError("none of the --servers can run here")
        return usable, "launched directly (granian/gunicorn on app:create_app), same settings"
    default, choices = kinds.serve_default()
    if args.server and args.server not in choices:
        raise BenchError(
            f"this gatehouse serve has no --server {args.server} "
            f"(it offers: {', '.join(choices) or 'no --server option'})"
        )
    kind = kinds.for_serve(args.server or default)
    flag = f" --server {args.server}" if args.server else ""
    return [kind], f"python -m app serve --workers {args.workers}{flag} ({kind.label})"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    servers.stop_on_signals()
    load.wrk_binary()  # fail before any setup when wrk is missing
    notes: list[str] = []
    databases: list[Database] = [] if args.no_sqlite else [SqliteDatabase()]
    if args.postgres:
        databases.append(PostgresDatabase(args.postgres))
    peer_missing = "--no-peer" if args.no_peer else peer.unavailable(args.peers)
    if peer_missing:
        notes.append(
            f"oidc-provider not measured: {peer_missing}; no ratio to it, and the targets "
            "relative to it not judged"
        )
        progress(f"oidc-provider not measured: {peer_missing}")

    facts = machine.facts()
    load_before = machine.load_average()
    tmp = Path(tempfile.mkdtemp(prefix="gatehouse-bench-"))
    rows: list[report.Row] = []
    failure = None
    start_signature_us = 0.0
    launch = "-"
    try:
        chosen, launch = choose_kinds(args, notes)
        progress("measuring one RSA-2048 signature")
        start_signature_us = signature.rsa_sign_cpu_us()
        for database in databases:
            for alg in args.algs:
                folder = None if peer_missing else args.peers
                rows += run_block(args, database, alg, chosen, folder, tmp, notes)
    except BenchError as exc:
        failure = str(exc)
    except KeyboardInterrupt:
        failure = "interrupted"
    finally:
        if args.keep:
            progress(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    facts += [
        ("gatehouse", launch),
        ("settings", f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
                     f"after {args.warmup} s warm-up; {args.workers} workers per Python server, "
                     f"oidc-provider 1 node process; {args.rounds} interleaved rounds, medians"),
        ("RSA-2048 sign", f"{start_signature_us:.0f} us CPU at the start (cryptography, "
                          "PKCS#1 v1.5 SHA-256, median; each block's own are in the notes)"),
        ("load avg", f"{load_before} before, {machine.load_average()} after (1/5/15 min)"),
    ]  # fmt: skip
    notes += report.signature_notes(rows, start_signature_us)
    if rows or not failure:
        print(report.render(facts, rows, notes, start_signature_us, args.markdown))
    misses = report.missed(rows, start_signature_us)
    if failure:
        print(f"\nbench failed: {failure}", file=sys.stderr)
        return 2
    if args.check and misses:
        print("\ntargets missed or not judged:\n  " + "\n  ".join(misses), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
