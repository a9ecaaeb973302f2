"""The instance folder and the files in it: private to the user that runs Gatehouse.

It holds the SQLite database (password hashes, secret hashes, the audit log), the
session key and the failure counts: the folder is 0700 and every file 0600, on
creation and, for an instance made before this rule, at every start. Its SQLite files
run in WAL mode, which ``switch_to_wal`` sets safely when several workers open one at once.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import suppress
from pathlib import Path

DIR_MODE, FILE_MODE = 0o700, 0o600
#: the files SQLite keeps beside a database in WAL mode
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
#: how long a connection may retry switching a new database file to WAL (seconds)
WAL_SWITCH_TIMEOUT = 2.0


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing; the folder itself is made 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        with suppress(PermissionError):  # not ours to change: leave it, as the operator set it
            path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, 0600 either way (nothing else can have opened it yet)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    _tighten(path)
    return path


def private_sqlite(path: Path) -> None:
    """A SQLite database file and its companions, 0600: SQLite gives the WAL and
    shared-memory files it creates later the mode of the database file."""
    if not path.parent.is_dir():
        return  # SQLite will say it cannot open the file
    private_file(path)
    for suffix in SQLITE_COMPANIONS:
        _tighten(path.with_name(path.name + suffix))


def switch_to_wal(conn: sqlite3.Connection) -> None:
    """Put the database file in WAL mode, waiting for another process doing the same.

    Switching the journal mode takes an exclusive lock without calling the busy handler,
    so two workers opening a new file at once saw "database is locked" about one time in
    ten. A file already in WAL answers at once.
    """
    deadline = time.monotonic() + WAL_SWITCH_TIMEOUT
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def _tighten(path: Path) -> None:
    with suppress(FileNotFoundError, PermissionError):
        if path.stat().st_mode & 0o777 != FILE_MODE:
            path.chmod(FILE_MODE)
