"""``gatehouse serve``: refuses to start without a signing key (run via the runner, no
server); builds each worker's app with its heap settled."""

from __future__ import annotations

import gc
import os

import pytest

from tests.cli.helpers import failed
from tests.helpers import in_forked_child


@pytest.fixture
def empty_keys(config, tmp_path):
    """An empty keys folder; requested before ``app`` so the app is built with it."""
    path = tmp_path / "empty-keys"
    path.mkdir()
    config["GATEHOUSE_KEYS_DIR"] = path
    return path


@pytest.fixture
def missing_keys(config, tmp_path):
    path = tmp_path / "no-such-folder"
    config["GATEHOUSE_KEYS_DIR"] = path
    return path


def test_serve_without_a_signing_key_fails_clearly(empty_keys, gh):
    line = failed(gh("serve", "--port", "8765"), "no signing key", "gatehouse init")
    assert str(empty_keys) in line


def test_serve_without_a_keys_folder_fails_clearly(missing_keys, gh):
    line = failed(gh("serve", "--port", "8765"))
    assert str(missing_keys) in line
    assert not missing_keys.exists()


def test_serve_rejects_a_bad_port(gh):
    result = gh("serve", "--port", "0")
    assert result.exit_code != 0
    assert "port" in result.stderr.lower()


def test_the_settings_are_read_once_then_leave_the_process_environment(monkeypatch, tmp_path):
    """Granian copies ``os.environ`` into every request's WSGI environ: the database URL
    and the session key must not be there, yet each worker gets every setting, the
    ``.env`` file's included."""
    from app.cli.serve import _configuration

    for name in [name for name in os.environ if name.startswith("GATEHOUSE_")]:
        monkeypatch.setenv(name, os.environ[name])  # put back afterwards
    monkeypatch.delenv("GATEHOUSE_ISSUER", raising=False)  # the environment would win over .env
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("GATEHOUSE_ISSUER=https://from-dotenv.example\n")
    monkeypatch.setenv("GATEHOUSE_SECRET_KEY", "session-key-not-for-requests")
    monkeypatch.setenv("GATEHOUSE_DATABASE_URL", "postgresql://user:pw@db/gatehouse")
    monkeypatch.setenv("UNRELATED_SETTING", "kept")
    variables = _configuration()
    assert variables["GATEHOUSE_SECRET_KEY"] == "session-key-not-for-requests"
    assert variables["GATEHOUSE_DATABASE_URL"] == "postgresql://user:pw@db/gatehouse"
    assert variables["GATEHOUSE_ISSUER"] == "https://from-dotenv.example"
    assert "UNRELATED_SETTING" not in variables
    assert not [name for name in os.environ if name.startswith("GATEHOUSE_")]
    assert os.environ["UNRELATED_SETTING"] == "kept"


def test_a_worker_settles_its_heap_once_its_app_is_built(config):
    """In a forked child, as a server's worker: the app it built is out of the full
    collections that stalled a worker for 100-144 ms (``app.process.settle_heap``)."""
    from app.cli.serve import worker_app

    def build() -> str:
        app = worker_app({name: str(value) for name, value in config.items()}, False)
        still_walked = any(found is app for found in gc.get_objects())
        return f"{gc.get_freeze_count()} {still_walked}"

    _, said = in_forked_child(build)
    frozen, app_still_walked = said.split()
    assert app_still_walked == "False"
    assert int(frozen) > 10_000
