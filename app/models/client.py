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
    #: hex SHA-256 of the secret (the secret itself is never stored); None for a key client.
    #: Indexed, as is the previous one: a leaked-credential report looks secrets up by hash
    secret_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    previous_secret_valid_until: Mapped[datetime | None]
    #: when the previous secret last authenticated during its grace period
    previous_secret_last_used_at: Mapped[datetime | None]
    #: a key client's public JWK Set (``private_key_jwt``), normalised JSON; None: a secret client
    jwks: Mapped[str | None] = mapped_column(Text)
    #: CIDR networks the client may authenticate from, space-separated; empty: anywhere
    allowed_networks: Mapped[str] = mapped_column(Text, default="")
    #: when the owner was last mailed about a refusal from outside those networks
    network_alert_at: Mapped[datetime | None]
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
    last_used_ip: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(254))
    #: tokens issued before this instant are dead (set when scopes are narrowed)
    not_before: Mapped[datetime | None]

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    @property
    def networks(self) -> list[str]:
        return self.allowed_networks.split()

    @property
    def token_endpoint_auth_method(self) -> str:
        """How the client authenticates, fixed at creation (RFC 7591 §2 names)."""
        return "private_key_jwt" if self.jwks is not None else "client_secret_basic"
