"""``/readyz`` names the dependency that fails and answers 503, each one stopped for real:
a throwaway Redis server stopped, the keys folder removed. (The database: a throwaway
PostgreSQL database closed to connections, in test_database_outage.py, and unreachable
URLs in tests/oauth/test_health.py.)"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from tests.live.server import free_port


@dataclass
class RedisServer:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def throwaway_redis(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of our own on a free port, nothing saved; stopped after the test."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(f"redis://127.0.0.1:{port}/0", process)
    try:
        client = redis.Redis.from_url(server.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_readyz_names_redis_and_is_503_when_it_stops(config, request, throwaway_redis):
    config["GATEHOUSE_REDIS_URL"] = throwaway_redis.url
    http = request.getfixturevalue("http")
    ready = http.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"]["redis"] == "ok"

    throwaway_redis.stop()
    started = time.monotonic()
    down = http.get("/readyz")
    assert time.monotonic() - started < 3  # a probe answers quickly
    assert down.status_code == 503
    checks = down.json["checks"]
    assert down.json["status"] == "unavailable"
    assert checks["redis"].startswith("unreachable")
    assert checks["database"] == "ok" and checks["keys"].startswith("ok")


def test_readyz_says_nothing_of_redis_when_none_is_configured(http):
    assert set(http.get("/readyz").json["checks"]) == {"database", "keys"}


def test_readyz_is_503_naming_the_keys_when_their_folder_is_removed(http, keys_dir):
    assert http.get("/readyz").status_code == 200
    shutil.rmtree(keys_dir)
    time.sleep(1.1)  # running workers look at the folder again at most once a second
    down = http.get("/readyz")
    assert down.status_code == 503
    assert not down.json["checks"]["keys"].startswith("ok")
    assert str(keys_dir) in down.json["checks"]["keys"]
    assert down.json["checks"]["database"] == "ok"
