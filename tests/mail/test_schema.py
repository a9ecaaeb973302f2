"""The outbox tables built by the migrations are exactly the models' (Alembic autogenerate)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db

OUTBOX_TABLES = ("outbox_messages", "client_reminders")


def test_migrated_outbox_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, db.metadata)
        tables = set(db.inspect(connection).get_table_names())
    assert set(OUTBOX_TABLES) <= tables
    # each diff names its table somewhere in its repr (a table, column, index or name)
    ours = [diff for diff in diffs if any(table in repr(diff) for table in OUTBOX_TABLES)]
    assert ours == []
