"""One block (a database and an algorithm): interleaved rounds over the running servers.

In each round, for ``/token`` and then ``/introspect``: oidc-provider, then
for each server kind bare Flask (the yardstick) and Gatehouse, the kinds'
order turning by one each round. In RS256 blocks each ``/token`` round starts
by measuring one RSA signature in this process (the CPU target's allowance,
``bench.report``), and its runs also load bare Flask's ``POST /sign`` (one
signature a request, ``bench.baseline``): the served floor of a token server.
Interleaving keeps a drift in the machine's speed (a noisy neighbour, a
throttled VM) out of the ratios. Every run waits until the server is idle,
warms it up, then times one wrk run while reading the CPU the server's whole
process tree used, what wrk used, and what the rest of the machine used
(printed, so a busy machine shows in the table).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import load, procs, signature
from bench.environment import BenchError
from bench.report import Row, Sample

SCENARIOS = ("/token", "/introspect")
BARE = "POST /"  # the bare Flask scenario
SIGNED = "POST /sign"  # bare Flask plus one RS256 signature
#: the scenario a yardstick's runs are filed under, whatever the round's scenario
OWN_SCENARIO = {"baseline": BARE, "signed": SIGNED}


@dataclass
class Contender:
    """A server in the block and how to load it in each scenario it takes part in."""

    server: str  # the table's server column
    role: str  # "peer", "baseline", "signed" or "gatehouse"
    pid: int
    urls: dict[str, str]  # scenario -> URL
    scripts: dict[str, Path] = field(default_factory=dict)  # fixed scripts by scenario
    # writes a script introspecting a freshly issued token, checked active first
    introspection: Callable[[], Path] | None = None
    # the round scenarios it is run in (None: all)
    rounds: tuple[str, ...] | None = None

    def own(self, scenario: str) -> str:
        """The scenario this member's run in a SCENARIO round is filed under."""
        return OWN_SCENARIO.get(self.role, scenario)

    def takes_part(self, scenario: str) -> bool:
        return self.rounds is None or scenario in self.rounds

    def script(self, scenario: str) -> Path:
        if scenario == "/introspect" and self.introspection:
            return self.introspection()
        return self.scripts[scenario]


@dataclass
class Group:
    """What runs together in a round: the peer alone, or one kind's bare Flask and Gatehouse."""

    members: list[Contender]


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Block:
    def __init__(self, args: argparse.Namespace, database: str, alg: str, groups: list[Group]):
        self.args = args
        self.database = database
        self.alg = alg
        self.groups = groups
        self.rows: dict[tuple[str, str], Row] = {}
        self.notes: list[str] = []
        #: one RSA signature's CPU, measured before each RS256 /token round
        self.signatures: list[float] = []

    def row(self, scenario: str, member: Contender) -> Row:
        scenario = member.own(scenario)
        key = (scenario, member.server)
        if key not in self.rows:
            self.rows[key] = Row(self.database, self.alg, scenario, member.server, member.role)
        return self.rows[key]

    def measure(self, member: Contender, scenario: str) -> Sample:
        """Idle, warm-up, idle, then one timed wrk run against MEMBER."""
        a = self.args
        url = member.urls[member.own(scenario)]
        script = member.script(scenario)
        procs.wait_idle(member.pid)
        if a.warmup > 0:
            load.run(url, script, a.warmup, a.connections, a.threads)
            procs.wait_idle(member.pid)
        cpu, busy = procs.cpu_seconds(member.pid), procs.machine_busy_seconds()
        started = time.time()
        result = load.run(url, script, a.duration, a.connections, a.threads)
        elapsed = time.time() - started
        cpu = procs.cpu_seconds(member.pid) - cpu
        busy = procs.machine_busy_seconds() - busy
        if not procs.tree(member.pid):
            raise BenchError(f"{member.server} ({member.role}) is gone after a {scenario} run")
        if a.verbose:
            print(f"--- wrk {member.server} {url} ---\n{result.output}", file=sys.stderr)
        others = max(0.0, (busy - cpu - result.wrk_cpu_s) / elapsed * 100) if elapsed else 0.0
        per_request = cpu * 1e6 / result.requests if result.requests else 0.0
        return Sample(result, per_request, others)

    def run(self) -> list[Row]:
        total = self.args.rounds
        label = f"{self.database}/{self.alg}"
        gatehouses = [m for g in self.groups for m in g.members if m.role == "gatehouse"]
        rss_first: dict[str, dict[int, int]] = {}
        for number in range(1, total + 1):
            turn = (number - 1) % len(self.groups)
            order = self.groups[turn:] + self.groups[:turn]
            for scenario in SCENARIOS:
                progress(f"{label}: round {number}/{total}: {scenario}")
                if scenario == "/token" and self.alg == "RS256":
                    self.signatures.append(signature.rsa_sign_cpu_us())
                members = (m for group in order for m in group.members)
                for member in (m for m in members if m.takes_part(scenario)):
                    self.row(scenario, member).samples.append(self.measure(member, scenario))
                if number == 1 and scenario == "/token":
                    # every worker has served by now: memory is measured from here
                    rss_first = {m.server: procs.workers_rss(m.pid) for m in gatehouses}
        for member in gatehouses:
            before, after = rss_first[member.server], procs.workers_rss(member.pid)
            self.notes.append(memory_note(f"{label} {member.server}", before, after))
        return self._ordered()

    def _ordered(self) -> list[Row]:
        """The yardsticks first, then each scenario: peer, then Gatehouse; with their
        references."""
        rows = list(self.rows.values())
        bare = {r.server: r for r in rows if r.role == "baseline"}
        signed = {r.server: r for r in rows if r.role == "signed"}
        peers = {r.scenario: r for r in rows if r.role == "peer"}
        for row in rows:
            if row.role == "gatehouse":
                row.peer = peers.get(row.scenario)
                row.bare = bare.get(row.server)
                row.signed = signed.get(row.server)
                row.signatures = self.signatures
        ordered = [r for r in rows if r.role == "baseline"]
        ordered += [r for r in rows if r.role == "signed"]
        for scenario in SCENARIOS:
            ordered += [r for r in rows if r.scenario == scenario and r.role == "peer"]
            ordered += [r for r in rows if r.scenario == scenario and r.role == "gatehouse"]
        return ordered


def memory_note(label: str, before: dict[int, int], after: dict[int, int]) -> str:
    """One line: each worker's VmRSS after the first /token run and after the last round."""
    parts = []
    for pid in sorted(before):
        if pid in after:
            change = (after[pid] - before[pid]) / before[pid] if before[pid] else 0.0
            parts.append(
                f"pid {pid} {before[pid] / 1024:.1f} -> {after[pid] / 1024:.1f} MiB ({change:+.1%})"
            )
        else:
            parts.append(f"pid {pid} {before[pid] / 1024:.1f} MiB -> gone (worker restarted?)")
    for pid in sorted(set(after) - set(before)):
        parts.append(f"new pid {pid} {after[pid] / 1024:.1f} MiB")
    return f"memory {label}: worker VmRSS, first round -> last: " + ("; ".join(parts) or "none")
