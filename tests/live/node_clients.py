"""Node's openid-client, installed for the live tests outside the repository.

``tests/live/node/`` holds a ``package.json`` pinning ``openid-client`` and its
``package-lock.json``; ``npm ci`` installs exactly those versions from the npm registry
into a folder of the user's cache (``$XDG_CACHE_HOME/gatehouse-tests/…``, named after the
lock file's hash), once: later sessions reuse it. The install happens in a temporary
folder renamed into place, so two test sessions at once never see half an install.

On a machine without Node the tests that need it skip, saying so; with Node, a failed
install fails them (CI machines have Node).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent / "node"
FILES = ("package.json", "package-lock.json", "pkjwt.mjs")
INSTALL_TIMEOUT = 300


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gatehouse-tests"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((SOURCE / name).read_bytes())
    return digest.hexdigest()[:16]


def node_or_skip() -> str:
    """The ``node`` executable, or skip the test saying why."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the openid-client test needs Node.js 20 or later")
    return node


def openid_client_folder() -> Path:
    """A folder with ``pkjwt.mjs`` and its pinned ``node_modules``; installed if missing."""
    node_or_skip()
    target = _cache_root() / f"openid-client-{_fingerprint()}"
    if (target / "node_modules" / "openid-client" / "package.json").exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("node is installed but npm is not: install npm to run the openid-client test")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="install-", dir=target.parent))
    try:
        for name in FILES:
            shutil.copy(SOURCE / name, staging / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci failed in {staging}:\n{done.stdout}\n{done.stderr}")
        try:
            staging.rename(target)
        except OSError:  # another session installed it first
            if not target.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
