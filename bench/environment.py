"""A throwaway Gatehouse environment: instance dir, keys dir, database, clients.

Every (database, algorithm) block gets a fresh one: a new SQLite file, or a
new scratch schema in the given PostgreSQL database (reached through
``search_path``, dropped afterwards), and a new keys folder.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI_TIMEOUT = 120


class BenchError(RuntimeError):
    """The harness could not set up or run a scenario; the message says why."""


def base_env() -> dict[str, str]:
    """The parent environment without any GATEHOUSE_* setting or proxy, with the repo importable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GATEHOUSE_") and k.lower() not in ("http_proxy", "https_proxy")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(frozen=True)
class Credentials:
    client_id: str
    secret: str


class Database:
    """Where one environment keeps its data."""

    label: str

    def url(self, home: Path) -> str:
        raise NotImplementedError

    def drop(self) -> None:
        """Remove whatever ``url`` created (nothing for SQLite: the temp dir goes)."""


class SqliteDatabase(Database):
    label = "sqlite"

    def url(self, home: Path) -> str:
        return f"sqlite:///{home / 'gatehouse.db'}"


class PostgresDatabase(Database):
    """A scratch schema ``gatehouse_bench_<random>`` in the given database."""

    label = "postgres"

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        self._url = make_url(url)
        self.schema = ""

    def url(self, home: Path) -> str:
        from sqlalchemy import create_engine, text

        self.schema = f"gatehouse_bench_{secrets.token_hex(4)}"
        engine = create_engine(self._url)
        try:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        except Exception as exc:  # noqa: BLE001 - any connection problem is a setup error
            raise BenchError(f"cannot create a scratch schema in PostgreSQL: {exc}") from exc
        finally:
            engine.dispose()
        scoped = self._url.update_query_dict({"options": f"-csearch_path={self.schema}"})
        return scoped.render_as_string(hide_password=False)

    def drop(self) -> None:
        if not self.schema:
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(self._url)
        try:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        finally:
            engine.dispose()
            self.schema = ""


class Environment:
    """Settings, keys and clients for one Gatehouse server under test."""

    def __init__(self, home: Path, database: Database, alg: str, port: int) -> None:
        self.home = home
        self.database = database
        self.alg = alg
        self.port = port
        home.mkdir(parents=True)
        self.env = base_env() | {
            "GATEHOUSE_INSTANCE_DIR": str(home / "instance"),
            "GATEHOUSE_KEYS_DIR": str(home / "keys"),
            "GATEHOUSE_DATABASE_URL": database.url(home),
            "GATEHOUSE_ISSUER": f"http://127.0.0.1:{port}",
            "GATEHOUSE_SIGNING_ALG": alg,
            "GATEHOUSE_SECRET_KEY": secrets.token_urlsafe(32),
        }
        self.client: Credentials | None = None
        self.introspector: Credentials | None = None

    def gatehouse(self, *args: str) -> dict:
        """Run ``python -m app ARGS --json`` in this environment; its JSON output."""
        command = [sys.executable, "-m", "app", *args, "--json"]
        try:
            done = subprocess.run(
                command,
                cwd=self.home,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=CLI_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"`gatehouse {' '.join(args)}` took over {CLI_TIMEOUT} s") from exc
        if done.returncode != 0:
            raise BenchError(
                f"`gatehouse {' '.join(args)}` failed ({done.returncode}):\n"
                f"{done.stderr.strip() or done.stdout.strip()}"
            )
        try:
            return json.loads(done.stdout)
        except json.JSONDecodeError as exc:
            raise BenchError(
                f"`gatehouse {' '.join(args)}` printed no JSON:\n{done.stdout}"
            ) from exc

    def prepare(self) -> None:
        """``gatehouse init``, an owner, a ``jobs`` client and an ``introspect`` client."""
        self.gatehouse("init")
        owner = "owner@bench.example"
        self.gatehouse(
            "users", "create", owner, "--name", "Bench Owner", "--role", "admin",
            "--services", "jobs",
        )  # fmt: skip
        expires = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
        self.client = self._create_client(owner, "bench client", "jobs", expires)
        self.introspector = self._create_client(owner, "bench introspector", "introspect", expires)

    def _create_client(self, owner: str, name: str, scopes: str, expires: str) -> Credentials:
        record = self.gatehouse(
            "clients", "create", "--owner", owner, "--name", name,
            "--services", scopes, "--expires", expires,
        )  # fmt: skip
        return Credentials(record["client_id"], record["client_secret"])
