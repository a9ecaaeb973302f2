"""How many database reads one worker makes under load with many clients.

``python -m bench.reads [--clients 2000] [--seconds 90] [--postgres URL]``

One app (one worker) in this process, ``--clients`` secret clients, and
``/token`` called round-robin over all of them as fast as one thread can for
``--seconds``, after one warm-up pass that loads every client once. Every SQL
statement the app runs is counted by kind:

- ``change poll``: the read of the change log (``app.services.change_feed``);
- ``client load``: a client read into the worker's cache (once per client per
  ``SNAPSHOT_TTL`` seconds, 60);
- ``other``: anything else (usage writes: at most one a minute per client).

The model these numbers check (README, "How the cost grows"): a worker reads
``4 + busy clients / 60`` times a second, plus one read per change, instead of
``busy clients x 2`` when every worker re-read every client twice a second.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from bench.client import basic
from bench.environment import Credentials, Environment, PostgresDatabase, SqliteDatabase
from bench.profile import wsgi_caller


def _kind(statement: str) -> str:
    text = statement.lstrip().lower()
    if "client_changes" in text and text.startswith("select"):
        return "change poll"
    if text.startswith("select") and "from clients" in text:
        return "client load"
    return "other"


def _make_clients(app, count: int) -> list[Credentials]:
    """``count`` clients of one owner, through the same service function as the CLI."""
    from app.services import clients, users
    from app.services.actors import Actor

    expires = datetime.now(UTC).date() + timedelta(days=30)
    made = []
    with app.app_context():
        users.create_user(Actor.cli(), "reads@bench.example", "Reads", role="admin")
        for number in range(count):
            issued = clients.create_client(
                Actor.cli(),
                owner_email="reads@bench.example",
                name=f"client {number}",
                scopes=["jobs"],
                expires_on=expires,
            )
            made.append(Credentials(issued.client.client_id, issued.secret))
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--postgres", metavar="URL", help="a scratch schema in this database")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="gatehouse-reads-"))
    database = PostgresDatabase(args.postgres) if args.postgres else SqliteDatabase()
    try:
        env = Environment(tmp / "gatehouse", database, "ES256", 8000)
        env.env["GATEHOUSE_MAX_ACTIVE_CLIENTS"] = str(args.clients + 10)
        env.prepare()
        from app import create_app
        from app.extensions import db

        app = create_app({k: v for k, v in env.env.items() if k.startswith("GATEHOUSE_")})
        made = _make_clients(app, args.clients)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        calls = [
            wsgi_caller(
                app, "/token", "grant_type=client_credentials", form | {"Authorization": basic(c)}
            )
            for c in made
        ]
        for call in calls:  # warm-up: every client loaded once
            call()
        counts: Counter[str] = Counter()
        with app.app_context():
            engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def count(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
            counts[_kind(statement)] += 1

        requests, started = 0, time.perf_counter()
        while time.perf_counter() - started < args.seconds:
            for call in calls:
                call()
            requests += len(calls)
        elapsed = time.perf_counter() - started
        print(
            f"{args.clients} clients round-robin, one worker, {elapsed:.0f} s, "
            f"{requests / elapsed:,.0f} /token a second ({database.__class__.__name__})"
        )
        for kind in ("change poll", "client load", "other"):
            print(f"  {kind:12} {counts[kind] / elapsed:8.1f} statements a second")
        model = 4 + args.clients / 60
        print(
            f"  model: 4 + {args.clients}/60 = {model:.1f} reads a second; "
            f"re-reading every client twice a second: {args.clients * 2:,}"
        )
    finally:
        database.drop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
