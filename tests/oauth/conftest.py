"""Fixtures shared by the OAuth endpoint tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.extensions import db


@pytest.fixture
def second_app(config: dict[str, object], app: Flask) -> Iterator[Flask]:
    """Another instance on the same database, built from the same (possibly edited) config.

    It depends on ``app`` so the tables are emptied first and after, once.
    """
    other = create_app(config)
    other.config["TESTING"] = True
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
