"""Helpers shared by the mail tests: a controllable clock, clients made by people, outbox rows."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from click.testing import Result
from flask import Flask

from app.extensions import db
from app.models.types import utcnow
from app.services import clients, outbox_delivery, users
from app.services.actors import Actor


def later(**delta: float) -> datetime:
    """Now plus ``delta`` (``days=3``, ``seconds=31``…): the worker's clock in a test."""
    return utcnow() + timedelta(**delta)


def today() -> date:
    return utcnow().date()


def create_as(
    app: Flask,
    creator: str,
    owner: str,
    name: str = "Payroll sync",
    days: int = 30,
    scopes: list[str] | None = None,
) -> tuple[str, str]:
    """A client created by the person ``creator`` for ``owner``: ``(client_id, secret)``."""
    with app.app_context():
        actor = Actor.person(users.get_by_email(creator))
        issued = clients.create_client(
            actor,
            owner_email=owner,
            name=name,
            scopes=scopes or ["jobs"],
            expires_on=today() + timedelta(days=days),
        )
        return issued.client.client_id, issued.secret


def outbox(app: Flask, status: str | None = None, client_id: str | None = None) -> list[dict]:
    """The outbox rows, oldest first, as ``mail list --json`` describes them."""
    with app.app_context():
        found = outbox_delivery.list_messages(status=status, client_id=client_id, limit=10000)
        return [outbox_delivery.describe(message) for message in reversed(found)]


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def run_together(apps: list[Flask], work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` once per app, in threads released together; return results or errors."""
    barrier = threading.Barrier(len(apps))
    results: list[Any] = []

    def run(worker_app: Flask) -> None:
        with worker_app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(work())
            except BaseException as exc:  # noqa: BLE001 - returned to the test
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(a,)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results
