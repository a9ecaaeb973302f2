"""Shared CLI plumbing: domain errors as one-line messages, JSON or text output."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from app.errors import DomainError
from app.extensions import db


def domain_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a domain error into ``Error: <message>`` on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        except SQLAlchemyError as exc:
            db.session.rollback()
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise click.ClickException(
                f"database error ({type(exc).__name__}): {reason}; "
                "is the database reachable and initialised ('gatehouse init')?"
            ) from None

    return wrapper


def emit(record: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    """Print exactly one JSON document, or the human text for ``record``."""
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=False))
    else:
        click.echo(text(record))


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def split_list(value: str | None) -> list[str]:
    """``a,b , c`` -> ``["a", "b", "c"]``."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]
