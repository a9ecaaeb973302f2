"""Assertions shared by the CLI tests."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result
from flask import Flask
from sqlalchemy import func, select, text

from app.extensions import db


def ok(result: Result) -> Result:
    """The command succeeded; shows its output when it did not."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def as_json(result: Result) -> Any:
    """Exactly one JSON document on stdout."""
    ok(result)
    return json.loads(result.stdout)


def failed(result: Result, *fragments: str) -> str:
    """A clean failure: non-zero exit, one ``Error: …`` line on stderr naming the problem."""
    assert result.exit_code != 0, result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("Error: "), line
    for fragment in fragments:
        assert fragment.lower() in line.lower(), (fragment, line)
    return line


def row_counts(app: Flask) -> dict[str, int]:
    """Rows per table: compared before and after a failing command."""
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def dump_table(app: Flask, table: str) -> str:
    """Every row of ``table`` as text, to look for a string anywhere in it."""
    with app.app_context():
        rows = db.session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
        return "\n".join(repr(tuple(row)) for row in rows)


def execute(app: Flask, statement: str, **params: object) -> None:
    """Run one SQL statement (e.g. to age a client past its expiry) and commit."""
    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()
