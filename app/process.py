"""This process's id, without a system call per question.

``os.getpid`` is a system call (about 200 ns on the project machine), and the
metrics and the client-change feed ask it nine times per ``/token`` to notice
that they run in a newly forked worker. The id is read once, and again in the
child after every ``os.fork`` (which both servers use to start their workers).
"""

from __future__ import annotations

import os

_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def pid() -> int:
    """``os.getpid()``, as of the last fork."""
    return _pid
