"""This process's id without a system call per question, and its heap settled.

``os.getpid`` is a system call (about 200 ns on the project machine), and the
metrics and the client-change feed ask it nine times per ``/token`` to notice
that they run in a newly forked worker. The id is read once, and again in the
child after every ``os.fork`` (which both servers use to start their workers).
"""

from __future__ import annotations

import gc
import os

_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def pid() -> int:
    """``os.getpid()``, as of the last fork."""
    return _pid


def settle_heap() -> None:
    """Leave every object alive now out of the garbage collector's full passes.

    Called once a worker's app is built. The app (Flask, SQLAlchemy's mappers,
    Authlib, the templates) is a few hundred thousand objects that live as long as
    the process, and a full (generation 2) collection walks all of them while the
    worker answers nothing: 100-144 ms, about once every 25 s per worker under load,
    which set the whole ``/token`` p99 (2 workers, 32 connections). Frozen, a full
    pass walks only what came after: 1-3 ms. Reference counting still frees frozen
    objects; only a reference cycle among them would never be collected, and they
    were built to live until the worker exits.
    """
    gc.freeze()
