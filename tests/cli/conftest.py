"""Fixtures of the CLI tests: run the real ``gatehouse`` group against the test app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result

from app.cli import cli


@pytest.fixture
def gh(runner) -> Callable[..., Result]:
    """``gh("clients", "list", "--json")`` runs ``gatehouse clients list --json`` on the test app.

    The ``gatehouse`` group is passed explicitly: ``runner.invoke(args=...)`` alone runs
    ``app.cli``, which does not hold the Gatehouse commands (see test_init.py).
    """

    def invoke(*args: object, input: str | None = None) -> Result:
        return runner.invoke(cli, args=[str(arg) for arg in args], input=input)

    return invoke
