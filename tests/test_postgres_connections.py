"""PostgreSQL connections: timeouts are set without overriding what the URL asks for.

Skipped only when no PostgreSQL server answers on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from app import create_app
from app.extensions import db


def test_url_options_are_kept_and_a_statement_timeout_is_set(
    fresh_postgres, tmp_path: Path, keys_dir: Path
):
    url, _ = fresh_postgres
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
