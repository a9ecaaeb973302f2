"""Several workers at once send each message exactly once; the worker loop stops cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from flask import Flask

from app.mail.worker import run_once
from tests.helpers import clean_environment
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import later, outbox, run_together

REP = "rep@example.com"
MESSAGES = 24  # one owner holds at most 25 active clients


def queue_many(factory, count: int = MESSAGES) -> None:
    factory.user(REP, role="admin")
    for index in range(count):
        factory.client(owner=REP, name=f"Token {index}")


def assert_each_sent_once(app: Flask, smtp: SmtpServer, count: int = MESSAGES) -> None:
    ids = Counter(r.email["Message-ID"] for r in smtp.received)
    assert len(ids) == count, f"{len(ids)} distinct messages of {count}"
    assert ids.most_common(1)[0][1] == 1, ids.most_common(3)
    assert {m["status"] for m in outbox(app)} == {"sent"}


def test_two_worker_threads_send_each_message_once(app, make_app, factory, smtp):
    queue_many(factory)
    apps = [make_app() for _ in range(3)]
    now = later(seconds=1)
    results = run_together(apps, lambda: run_once(now))
    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["sent"] for r in results) == MESSAGES  # type: ignore[index]
    assert_each_sent_once(app, smtp)


def _env(config: dict[str, object], **extra: str) -> dict[str, str]:
    return clean_environment(**config, **extra)


def test_two_worker_processes_send_each_message_once(app, config, factory, smtp, tmp_path: Path):
    queue_many(factory)
    command = [sys.executable, "-m", "app", "worker", "--once", "--json"]
    procs = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=_env(config),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert_each_sent_once(app, smtp)


def test_the_worker_loop_delivers_and_stops_on_sigterm(app, config, factory, smtp, tmp_path):
    factory.user(REP)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--interval", "0.2"],
        cwd=tmp_path,
        env=_env(config),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        factory.client(owner=REP, name="While running")
        deadline = time.monotonic() + 20
        while not smtp.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(smtp.received) == 1
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "stopped" in stderr
    assert len(smtp.received) == 1
