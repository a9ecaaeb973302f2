"""Individually revoked access tokens and the revocation feed."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import utcnow


class RevokedToken(db.Model):
    """The jti denylist: kept until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RevocationEvent(db.Model):
    """One entry of ``GET /revocations``; ``id`` is the feed cursor."""

    __tablename__ = "revocation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(String(64))
    jti: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    not_before: Mapped[datetime | None]
    #: the scopes the client kept (scope narrowing events)
    scope: Mapped[str | None] = mapped_column(Text)


class UsedAssertion(db.Model):
    """Client-assertion ``jti`` values already accepted (RFC 7523 §3 item 7), kept until the
    assertion expires: the primary key turns the replay check into one INSERT, refused on
    every worker of every instance sharing the database."""

    __tablename__ = "used_assertions"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
