"""``gatehouse worker`` as a process: every line it writes is one JSON object."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from tests.conftest import Factory
from tests.live.server import server_env

REP = "rep@example.com"


def test_every_line_the_mail_worker_writes_is_json(
    factory: Factory, database_url, keys_dir, tmp_path
):
    factory.user(REP)
    factory.client(owner=REP, name="Logged")  # one creation email queued
    env = server_env(database_url, keys_dir, tmp_path / "instance", "http://127.0.0.1:8000")
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--interval", "0.2"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        outbox = tmp_path / "instance" / "outbox"
        deadline = time.monotonic() + 20
        while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, stderr
    assert stdout == ""
    lines = [json.loads(line) for line in stderr.splitlines()]
    messages = [line["message"] for line in lines]
    assert all(isinstance(line, dict) and line["logger"].startswith("app") for line in lines)
    assert any("started" in m for m in messages) and any("stopped" in m for m in messages)
    assert any(m.endswith("(created) sent") for m in messages), messages
