"""Local state is private to the user that runs Gatehouse: the SQLite database holds
password hashes, secret hashes and the audit log."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _app(instance: Path, keys_dir: Path):
    # the default database: a SQLite file in the instance folder, on every test run
    return create_app(
        {
            "GATEHOUSE_INSTANCE_DIR": instance,
            "GATEHOUSE_KEYS_DIR": keys_dir,
            "GATEHOUSE_ARGON2_PROFILE": "cheapest",
        }
    )


def _write(app) -> None:
    with app.app_context():
        db.session.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        db.session.execute(text("INSERT INTO probe VALUES (1)"))
        db.session.commit()


@pytest.fixture
def umask_022():
    """The usual umask, under which files are created world-readable unless made private."""
    import os

    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_instance_is_private(tmp_path, keys_dir, umask_022):
    instance = tmp_path / "instance"
    app = _app(instance, keys_dir)
    _write(app)
    with app.app_context():
        connection = db.engine.connect()  # WAL and shared-memory files exist while open
        try:
            files = {name: instance / name for name in ("gatehouse.db", "gatehouse.db-wal")}
            files["gatehouse.db-shm"] = instance / "gatehouse.db-shm"
            files["secret_key"] = instance / "secret_key"
            assert _mode(instance) == 0o700
            for name, path in files.items():
                assert path.exists(), name
                assert _mode(path) == 0o600, (name, oct(_mode(path)))
        finally:
            connection.close()
            db.engine.dispose()


def test_an_existing_instance_is_made_private_at_start(tmp_path, keys_dir, umask_022):
    instance = tmp_path / "instance"
    app = _app(instance, keys_dir)
    _write(app)
    with app.app_context():
        db.engine.dispose()
    instance.chmod(0o755)
    for path in instance.iterdir():
        path.chmod(0o644)
    again = _app(instance, keys_dir)
    assert _mode(instance) == 0o700
    for path in instance.iterdir():
        assert _mode(path) == 0o600, (path.name, oct(_mode(path)))
    _write(again)
    with again.app_context():
        db.engine.dispose()
