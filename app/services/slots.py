"""A bound on how many of one costly thing run at once in the instance: ``Slots``.

Password checks cost ~0.2 s of a core each (argon2id); run without a bound,
people signing in (or someone pretending to) take every worker and core from
the integrations calling ``/token``. Each slot is a file in the instance folder
locked with ``flock``: the lock belongs to the open file, so it bounds threads
and worker processes alike, and the kernel releases it if a worker dies. A
caller that finds no slot free is refused at once, never queued.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.instance import private_dir, private_file


class NoSlotFree(Exception):
    """Every slot is taken right now; try again shortly."""


class Slots:
    def __init__(self, folder: Path, count: int) -> None:
        self.folder, self.count = folder, count

    @contextmanager
    def taken(self) -> Iterator[None]:
        """Hold one free slot for the block, or raise ``NoSlotFree`` at once."""
        private_dir(self.folder)
        for number in range(self.count):
            path = private_file(self.folder / f"slot-{number}")
            fd = os.open(path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                os.close(fd)  # closing releases the lock
            return
        raise NoSlotFree()
