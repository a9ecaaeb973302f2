"""``python -m bench.instructions``: the instructions one request executes, counted by
valgrind's callgrind.

Seconds on a shared VM move by 10-20% between runs, more than a cut of a few
microseconds can show. Callgrind counts the instructions executed, which are the
same for the same code and input whatever else the machine does: two versions of
a path can be compared exactly. It makes the in-process request of
``bench.profile`` (same endpoints and options) N times under callgrind and counts
only those requests, not the set-up: they run inside ``itertools.starmap``, and
callgrind collects only inside its ``starmap_next`` (``--toggle-collect``).

Instructions are not time: a tight loop in C runs several to the cycle. JSON-escaping
an RS256 token's 800 characters is 36,000 instructions of a ``/token``, yet writing
the response without that loop saved no time. Compare versions here, then confirm
with ``make bench``.
Needs ``valgrind`` (``apt-get install valgrind``); about a minute per run.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.profile import add_request_arguments, prepared

WARM_UP = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    add_request_arguments(parser)
    parser.add_argument("-n", type=int, default=1000, help="requests counted (1000)")
    parser.add_argument("--out", metavar="FILE", help="keep callgrind's output here")
    parser.add_argument("--counted", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.counted:  # the run under valgrind
        with prepared(args, WARM_UP + args.n) as (_path, call):
            for _ in range(WARM_UP):
                call()
            collections.deque(itertools.starmap(call, itertools.repeat((), args.n)), maxlen=0)
        return 0
    if shutil.which("valgrind") is None:
        print("bench.instructions: valgrind is not installed (apt-get install valgrind)")
        return 2
    with tempfile.TemporaryDirectory(prefix="gatehouse-callgrind-") as tmp:
        out = args.out or str(Path(tmp) / "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            "--toggle-collect=starmap_next",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.instructions",
            "--counted",
            *(argv if argv is not None else sys.argv[1:]),
        ]
        # a fixed hash seed: the same dict and set layouts, so the same count run to run
        run = subprocess.run(
            command, capture_output=True, text=True, env=os.environ | {"PYTHONHASHSEED": "0"}
        )
        counted = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode != 0 or counted is None:
            print(run.stdout + run.stderr[-2000:])
            return 1
    per_request = int(counted.group(1)) // args.n
    print(f"{args.endpoint} ({args.alg}): {per_request:,} instructions per request ({args.n})")
    if args.out:
        print(f"by function: callgrind_annotate {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
