"""The installed ``gatehouse`` console script and ``python -m app``, as real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import clean_environment

GATEHOUSE = Path(sys.executable).parent / "gatehouse"
COMMANDS = ("init", "serve", "worker", "users", "services", "clients", "keys")


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    """The environment without GATEHOUSE_* settings, state kept in tmp_path."""
    return clean_environment(
        GATEHOUSE_INSTANCE_DIR=tmp_path / "instance", GATEHOUSE_KEYS_DIR=tmp_path / "keys"
    )


@pytest.mark.parametrize(
    "command",
    [[str(GATEHOUSE), "--help"], [sys.executable, "-m", "app", "--help"]],
    ids=["gatehouse", "python -m app"],
)
def test_help(command, clean_env, tmp_path):
    done = subprocess.run(
        command, cwd=tmp_path, env=clean_env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for name in COMMANDS:
        assert f"  {name}" in done.stdout, name


def gatehouse(args: list[str], env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    """The installed console script, run as a user would."""
    return subprocess.run(
        [str(GATEHOUSE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_bad_config_stops_the_command(clean_env, tmp_path):
    clean_env["GATEHOUSE_TOKEN_TTL"] = "5"
    done = gatehouse(["users", "list"], clean_env, tmp_path)
    assert done.returncode != 0
    assert "GATEHOUSE_TOKEN_TTL" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("args", [["users", "list"], ["clients", "list"], ["services", "list"]])
def test_an_uninitialised_database_is_one_clear_line(clean_env, tmp_path, args):
    """A database error is a one-line message naming it, not a traceback."""
    done = gatehouse(args, clean_env, tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "database error" in done.stderr and "gatehouse init" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
