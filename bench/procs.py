"""What a server's process tree is doing, read from /proc: pids, CPU time, memory.

A server is measured as its whole tree: the process we started (a gunicorn or
Granian master, or node) and every descendant (the workers). CPU time counts
every thread, and the CPU of children already reaped (``cutime``/``cstime``),
so a worker that dies mid-run still counts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, …), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces or parentheses: split after the last ")".
    return text.rsplit(")", 1)[1].split()


def _parents() -> dict[int, int]:
    """Every live process's parent pid."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := stat(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    return parents


def tree(root: int) -> list[int]:
    """ROOT and all its live descendants (ROOT first), or [] when ROOT is gone."""
    parents = _parents()
    if root not in parents:
        return []
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, frontier = [root], [root]
    while frontier:
        frontier = [child for pid in frontier for child in children.get(pid, [])]
        found += frontier
    return found


def workers(root: int) -> list[int]:
    """The worker processes under ROOT: the leaves of its tree (ROOT itself if it has none).

    That is gunicorn's and Granian's workers whether ``gatehouse serve`` is
    their master or starts one, and the node process of the peer.
    """
    pids = tree(root)
    if len(pids) <= 1:
        return pids
    parents = _parents()
    has_child = {parents.get(pid) for pid in pids}
    return sorted(pid for pid in pids[1:] if pid not in has_child and not _helper(pid))


def _helper(pid: int) -> bool:
    """multiprocessing's resource tracker is a child of a master, but no worker."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def cpu_seconds(root: int) -> float:
    """User plus system CPU the tree has used so far, reaped children included."""
    ticks = 0
    for pid in tree(root):
        if fields := stat(pid):
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / CLK_TCK


def rss_kib(pid: int) -> int | None:
    """VmRSS of PID in KiB, or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def workers_rss(root: int) -> dict[int, int]:
    """VmRSS in KiB of each worker under ROOT."""
    return {pid: size for pid in workers(root) if (size := rss_kib(pid)) is not None}


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores; not idle, not iowait)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / CLK_TCK


def wait_idle(root: int, quiet: float = 0.05, window: float = 0.5, limit: float = 15.0) -> bool:
    """Wait until the tree uses under QUIET cores over WINDOW seconds (at most LIMIT s).

    A server still draining requests abandoned by the previous run would
    otherwise charge their CPU to the next one.
    """
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_seconds(root)
        time.sleep(window)
        if cpu_seconds(root) - before < quiet * window:
            return True
    return False
