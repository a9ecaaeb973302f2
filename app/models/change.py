"""The change log that tells every worker which cached client state to drop."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import utcnow


class ClientChange(db.Model):
    """One committed change: a client's row changed (``client_id``) or a token was denied
    (``jti``). Kept for a while, then purged; ``id`` orders changes by commit."""

    __tablename__ = "client_changes"
    # ids are never reused (SQLite would reuse them once old rows are purged), so a
    # reader's "after the last id I saw" never misses a change
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    jti: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
