"""A person's signed-in console session, as the server knows it.

The session cookie carries a random token; this row (found by the token's
SHA-256, never the token itself) is what makes it valid. Signing out deletes
the row, so a copy of the cookie taken before is worth nothing after; the row's
``expires_at`` ends the session however active it stays.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import utcnow


class ConsoleSession(db.Model):
    __tablename__ = "console_sessions"

    #: hex SHA-256 of the token in the cookie
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the absolute end of the session, however recently it was used
    expires_at: Mapped[datetime] = mapped_column(index=True)
    #: the one-time secret page this session may still show (a random nonce), if any
    reveal_nonce: Mapped[str | None] = mapped_column(String(64))
