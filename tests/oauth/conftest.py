"""Fixtures shared by the OAuth endpoint tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.extensions import db


@pytest.fixture
def second_app(config: dict[str, object], app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """Another instance on the same database (its own instance folder), built from the
    same (possibly edited) config. It depends on ``app`` so the tables are emptied once."""
    other = create_app({**config, "GATEHOUSE_INSTANCE_DIR": tmp_path / "second-instance"})
    other.config["TESTING"] = True
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
