"""The choices the forms offer: services a person may grant, owners an admin may pick."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wtforms import SelectChoice

from app.services import catalogue, users
from app.services.actors import Actor

#: what people call the system scopes (their keys are shown beside the name)
SYSTEM_NAMES = {"introspect": "Token introspection", "manage": "Management API"}


def system_name(key: str) -> str:
    return SYSTEM_NAMES.get(key, key.capitalize())


@dataclass(frozen=True)
class ServiceOption:
    key: str
    name: str
    hint: str = ""

    @property
    def search_text(self) -> str:
        """What the as-you-type filter matches against."""
        return f"{self.name} {self.key} {self.hint}".lower()


def service_options(actor: Actor, keep: Iterable[str] = ()) -> list[ServiceOption]:
    """Admins: the catalogue and the system scopes. Members: the services they hold.

    ``keep`` adds scopes a client already has, so an edit form shows them.
    """
    held = set(actor.user.service_keys) if actor.user and not actor.is_admin else None
    options = [
        ServiceOption(s.key, s.name)
        for s in catalogue.list_services()
        if held is None or s.key in held or s.key in set(keep)
    ]
    for key, hint in sorted(catalogue.SYSTEM_SCOPES.items()):
        if actor.is_admin or key in set(keep):
            options.append(ServiceOption(key, system_name(key), f"System scope: {hint}"))
    return options


def catalogue_options() -> list[ServiceOption]:
    """The catalogue alone: the services a person can hold (system scopes are not held)."""
    return [ServiceOption(s.key, s.name) for s in catalogue.list_services()]


def service_names() -> dict[str, str]:
    """Catalogue names by key, for showing a client's scopes."""
    names = {s.key: s.name for s in catalogue.list_services()}
    names.update({key: f"{system_name(key)} (system scope)" for key in catalogue.SYSTEM_SCOPES})
    return names


def choices(options: list[ServiceOption]) -> list[SelectChoice]:
    """Service options as the choices of a form field."""
    return [SelectChoice(o.key, o.name) for o in options]


def owner_choices() -> list[SelectChoice]:
    """Active users as ``Name <email>``, for the admin's owner picker."""
    return [SelectChoice(u.email, f"{u.name} <{u.email}>") for u in users.list_users() if u.active]
