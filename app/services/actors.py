"""Who is acting: a person, a ``manage`` client acting as its owner, or the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import User


@dataclass(frozen=True)
class Actor:
    #: how the audit log names the actor: an email, ``client:<id>``, ``cli`` or ``leak-report``
    label: str
    user: User | None
    is_admin: bool
    address: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        """The shell: whoever holds it holds the database, so administrator rights.

        The audit log names it ``cli``.
        """
        return cls(label="cli", user=None, is_admin=True)

    @classmethod
    def person(cls, user: User, address: str | None = None) -> Actor:
        return cls(label=user.email, user=user, is_admin=user.is_admin, address=address)

    @classmethod
    def client(cls, client_id: str, owner: User, address: str | None = None) -> Actor:
        """A ``manage`` client acting as its owner, with the owner's role and services.

        The audit log names it ``client:<client_id>``.
        """
        return cls(
            label=f"client:{client_id}", user=owner, is_admin=owner.is_admin, address=address
        )

    @classmethod
    def leak_report(cls, address: str) -> Actor:
        """Anyone reporting a leaked secret (``POST /credentials/revoke``), from ``address``.

        It acts with the system's reach because a secret can belong to anyone's
        client, and only ever to revoke the client whose secret it presented.
        """
        return cls(label="leak-report", user=None, is_admin=True, address=address)
