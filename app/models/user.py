"""People who sign in: administrators and members ("service reps")."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.service import Service
from app.models.types import utcnow

user_services = Table(
    "user_services",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("service_key", ForeignKey("services.key", ondelete="CASCADE"), primary_key=True),
)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-cased and trimmed, so uniqueness is case-insensitive
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="member")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: bumped by every client creation for this owner: the row lock that serialises the cap
    client_serial: Mapped[int] = mapped_column(default=0)

    services: Mapped[list[Service]] = relationship(secondary=user_services, lazy="selectin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def service_keys(self) -> set[str]:
        return {service.key for service in self.services}
