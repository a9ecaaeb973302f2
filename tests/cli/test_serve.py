"""``gatehouse serve``: refuses to start without a signing key (run via the runner, no server)."""

from __future__ import annotations

import pytest

from tests.cli.helpers import failed


@pytest.fixture
def empty_keys(config, tmp_path):
    """An empty keys folder; requested before ``app`` so the app is built with it."""
    path = tmp_path / "empty-keys"
    path.mkdir()
    config["GATEHOUSE_KEYS_DIR"] = path
    return path


@pytest.fixture
def missing_keys(config, tmp_path):
    path = tmp_path / "no-such-folder"
    config["GATEHOUSE_KEYS_DIR"] = path
    return path


def test_serve_without_a_signing_key_fails_clearly(empty_keys, gh):
    line = failed(gh("serve", "--port", "8765"), "no signing key", "gatehouse init")
    assert str(empty_keys) in line


def test_serve_without_a_keys_folder_fails_clearly(missing_keys, gh):
    line = failed(gh("serve", "--port", "8765"))
    assert str(missing_keys) in line
    assert not missing_keys.exists()


def test_serve_rejects_a_bad_port(gh):
    result = gh("serve", "--port", "0")
    assert result.exit_code != 0
    assert "port" in result.stderr.lower()
