"""The service catalogue; its keys are the OAuth scopes a client may hold."""

from __future__ import annotations

import re

from sqlalchemy import Select, func, or_, select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Service
from app.services import audit
from app.services.actors import Actor
from app.services.paging import Page, paginate
from app.services.transaction import transaction

SYSTEM_SCOPES = {
    "introspect": "may call /introspect and read /revocations",
    "manage": "may call the management API as the client's owner",
}
DEFAULT_SERVICES = [
    ("candidates", "Candidate API"),
    ("employees", "Employee API"),
    ("jobs", "Job API"),
    ("clients", "Client API"),
    ("contacts", "Contact API"),
    ("master-list", "Master List"),
]
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,63}$")


def _service_query(q: str | None) -> Select[tuple[Service]]:
    query = select(Service).order_by(Service.name, Service.key)
    if q and q.strip():
        text = q.strip().lower()
        query = query.where(
            or_(
                func.lower(Service.name).contains(text, autoescape=True),
                Service.key.contains(text, autoescape=True),
            )
        )
    return query


def list_services(q: str | None = None) -> list[Service]:
    """The catalogue, optionally filtered by a case-insensitive match on name or key."""
    return list(db.session.scalars(_service_query(q)))


def page_services(q: str | None = None, page: int = 1, per_page: int = 50) -> Page[Service]:
    """One page of ``list_services``; a page past the end is empty."""
    return paginate(_service_query(q), page, per_page, clamp=False)


def service_keys() -> set[str]:
    """Every catalogue key."""
    return set(db.session.scalars(select(Service.key)))


def all_scopes() -> list[str]:
    """Catalogue keys and system scopes: every scope this server knows."""
    return sorted(service_keys()) + sorted(SYSTEM_SCOPES)


def add_service(actor: Actor, key: str, name: str) -> Service:
    """Add a catalogue entry; the key becomes an OAuth scope string."""
    key, name = key.strip(), name.strip()
    if not KEY_PATTERN.match(key):
        raise InvalidInput(
            "service key must be 1-64 lower-case letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit",
            {"key": "invalid"},
        )
    if key in SYSTEM_SCOPES:
        raise InvalidInput(f"'{key}' is a reserved system scope", {"key": "reserved"})
    if not name or len(name) > 200:
        raise InvalidInput("service name must be 1-200 characters", {"name": "invalid"})
    duplicate = f"service '{key}' already exists"
    with transaction(conflict=duplicate):
        if db.session.get(Service, key) is not None:
            raise Conflict(duplicate, {"key": "duplicate"})
        service = Service(key=key, name=name)
        db.session.add(service)
        audit.record(actor, "service.add", key, name=name)
    return service


def seed_defaults() -> int:
    """Create the default catalogue entries that are missing; return how many were added."""
    with transaction():
        existing = service_keys()
        missing = [Service(key=k, name=n) for k, n in DEFAULT_SERVICES if k not in existing]
        db.session.add_all(missing)
    return len(missing)
