"""``gatehouse users …`` and ``gatehouse services …``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from app.cli.output import domain_errors, emit, json_option, split_list
from app.errors import InvalidInput
from app.models import Service, User
from app.services import catalogue, offboarding
from app.services import users as user_service
from app.services.actors import Actor


def _user(user: User) -> dict:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "active": user.active,
        "services": sorted(user.service_keys),
        "password_set": user.password_hash is not None,
        "can_sign_in": user.active and user.password_hash is not None,
    }


LIST_HEADER = "EMAIL\tROLE\tACTIVE\tPASSWORD\tNAME\tSERVICES"


def _user_line(user: dict) -> str:
    """One row under ``LIST_HEADER``."""
    services = ",".join(user["services"]) or "-"
    active = "yes" if user["active"] else "no"
    password = "set" if user["password_set"] else "none"
    return f"{user['email']}\t{user['role']}\t{active}\t{password}\t{user['name']}\t{services}"


def _user_table(records: list[dict]) -> str:
    return "\n".join([LIST_HEADER, *map(_user_line, records)]) if records else "no users"


def _read_password(from_stdin: bool) -> str:
    """One line from stdin (newline stripped), or typed twice at a hidden prompt."""
    if not from_stdin:
        return click.prompt("New password", hide_input=True, confirmation_prompt=True)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput("no password on stdin")
    return password


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
    password = _read_password(from_stdin=True) if password_stdin else None
    user = user_service.create_user(
        Actor.cli(), email, name, role=role, services=split_list(services), password=password
    )
    emit(_user(user), as_json, lambda u: f"created {u['email']} ({u['role']})")


@users.command("list")
@json_option
@with_appcontext
@domain_errors
def list_users(as_json: bool) -> None:
    """List users: role, whether active, whether a password is set."""
    records = [_user(user) for user in user_service.list_users()]
    emit(records, as_json, _user_table)


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password (one line) from stdin.")
@json_option
@with_appcontext
@domain_errors
def set_password(email: str, password_stdin: bool, as_json: bool) -> None:
    """Set a user's password (e.g. a lost admin password); their console sessions end."""
    password = _read_password(from_stdin=password_stdin)
    user = user_service.set_password(Actor.cli(), email, password)
    emit(_user(user), as_json, lambda u: f"password set for {u['email']}")


@users.command("deactivate")
@click.argument("email")
@json_option
@with_appcontext
@domain_errors
def deactivate(email: str, as_json: bool) -> None:
    """Switch a user off and revoke every active client they own, in one transaction."""
    user, revoked = offboarding.deactivate_user(Actor.cli(), email)
    record = _user(user) | {"clients_revoked": revoked}
    emit(
        record,
        as_json,
        lambda r: f"deactivated {r['email']}; clients revoked: {r['clients_revoked']}",
    )


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
