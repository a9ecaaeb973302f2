"""``app.process.pid``: the process id without a system call, right after a fork too."""

from __future__ import annotations

import os

from app import process


def test_pid_is_this_process():
    assert process.pid() == os.getpid()


def test_a_forked_child_sees_its_own_pid():
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.write(write, f"{process.pid()} {os.getpid()}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        reported, actual = answer.read().split()
    os.waitpid(child, 0)
    assert reported == actual == str(child)
    assert process.pid() == os.getpid() != child
