"""An OAuth 2.0 client: what the console calls a "system access token"."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import utcnow
from app.models.user import User


class Client(db.Model):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: hex SHA-256 of the secret; the secret itself is never stored
    secret_hash: Mapped[str] = mapped_column(String(64))
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    previous_secret_valid_until: Mapped[datetime | None]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    #: space-separated scope strings (service keys and system scopes)
    scope: Mapped[str] = mapped_column(Text, default="")
    expires_on: Mapped[date]
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: who created it, as the audit log names actors (an email, a client id or "cli")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(254))
    #: tokens issued before this instant are dead (set when scopes are narrowed)
    not_before: Mapped[datetime | None]

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()
