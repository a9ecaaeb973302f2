"""PostgreSQL connections: timeouts are set without overriding what the URL asks for.

Skipped only when no PostgreSQL server answers on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.test_database_outage import ADMIN_URL


def test_url_options_are_kept_and_a_statement_timeout_is_set(tmp_path: Path, keys_dir: Path):
    url = ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    app = create_app(
        {
            "GATEHOUSE_DATABASE_URL": url + "?options=-csearch_path%3Dgatehouse_elsewhere",
            "GATEHOUSE_KEYS_DIR": keys_dir,
            "GATEHOUSE_INSTANCE_DIR": tmp_path / "instance",
        }
    )
    with app.app_context():
        try:
            assert db.session.scalar(text("SHOW search_path")) == "gatehouse_elsewhere"
            assert db.session.scalar(text("SHOW statement_timeout")) == "10s"
        finally:
            db.session.remove()
            db.engine.dispose()
