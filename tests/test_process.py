"""``app.process``: the process id without a system call, right after a fork too; the
heap a worker settles once its app is built."""

from __future__ import annotations

import gc
import os

from app import process
from tests.helpers import in_forked_child


def test_pid_is_this_process():
    assert process.pid() == os.getpid()


def test_a_forked_child_sees_its_own_pid():
    child, said = in_forked_child(lambda: f"{process.pid()} {os.getpid()}")
    reported, actual = said.split()
    assert reported == actual == str(child)
    assert process.pid() == os.getpid() != child


def test_settling_the_heap_leaves_what_is_alive_out_of_collections():
    """A full collection walks what ``gc.get_objects`` lists: after settling, what was
    alive before is no longer in it, and what is made afterwards still is."""
    built_before = [[]]  # a container, so the collector tracks it
    try:
        process.settle_heap()
        made_after = [[]]
        tracked = gc.get_objects()
        assert not any(found is built_before for found in tracked)
        assert any(found is made_after for found in tracked)
    finally:
        gc.unfreeze()
