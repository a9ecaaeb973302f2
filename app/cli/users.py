"""``gatehouse users …`` and ``gatehouse services …``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from app.cli.output import domain_errors, emit, json_option, split_list
from app.errors import InvalidInput
from app.models import Service, User
from app.services import catalogue
from app.services import users as user_service
from app.services.actors import Actor


def _user(user: User) -> dict:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "active": user.active,
        "services": sorted(user.service_keys),
        "can_sign_in": user.password_hash is not None,
    }


def _user_line(user: dict) -> str:
    services = ",".join(user["services"]) or "-"
    return f"{user['email']}\t{user['role']}\t{user['name']}\tservices={services}"


@click.group()
def users() -> None:
    """People who sign in to the console."""


@users.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", type=click.Choice(["admin", "member"]), default="member", show_default=True)
@click.option("--services", default="", help="Comma-separated service keys a member holds.")
@click.option("--password-stdin", is_flag=True, help="Read the password (one line) from stdin.")
@json_option
@with_appcontext
@domain_errors
def create_user(
    email: str, name: str, role: str, services: str, password_stdin: bool, as_json: bool
) -> None:
    """Add a user (without a password they cannot sign in until an admin sets one)."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("no password on stdin")
    user = user_service.create_user(
        Actor.cli(), email, name, role=role, services=split_list(services), password=password
    )
    emit(_user(user), as_json, lambda u: f"created {_user_line(u)}")


@users.command("list")
@json_option
@with_appcontext
@domain_errors
def list_users(as_json: bool) -> None:
    """List users."""
    records = [_user(user) for user in user_service.list_users()]
    emit(records, as_json, lambda rs: "\n".join(map(_user_line, rs)) or "no users")


def _service(service: Service) -> dict:
    return {"key": service.key, "name": service.name}


@click.group()
def services() -> None:
    """The service catalogue (each key is an OAuth scope)."""


@services.command("list")
@click.option("--q", default=None, help="Filter by name or key.")
@json_option
@with_appcontext
@domain_errors
def list_services(q: str | None, as_json: bool) -> None:
    """List catalogue entries."""
    records = [_service(s) for s in catalogue.list_services(q)]
    emit(records, as_json, lambda rs: "\n".join(f"{r['key']}\t{r['name']}" for r in rs))


@services.command("add")
@click.argument("key")
@click.option("--name", required=True, help="Display name, e.g. 'Candidate API'.")
@json_option
@with_appcontext
@domain_errors
def add_service(key: str, name: str, as_json: bool) -> None:
    """Add a catalogue entry."""
    record = _service(catalogue.add_service(Actor.cli(), key, name))
    emit(record, as_json, lambda r: f"added {r['key']}\t{r['name']}")
