"""Driving one scenario with wrk and reading its results.

wrk runs as a separate process on loopback with a Lua script that sets the
method, form body and headers, counts every non-200 response in a
``response`` hook (wrk's own "Non-2xx" line appears only when there are
some) and prints one machine-readable ``BENCH`` line from ``done``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.environment import BenchError

WRK = "/usr/bin/wrk"

LUA = """\
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
{auth}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  last_status = 0
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    last_status = status
  end
end

function done(summary, latency, requests)
  local non200, last = 0, 0
  for _, thread in ipairs(threads) do
    non200 = non200 + thread:get("non200")
    if thread:get("last_status") ~= 0 then last = thread:get("last_status") end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "non200=%d last_status=%d connect=%d read=%d write=%d timeout=%d status=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, non200, last, e.connect, e.read, e.write,
    e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class Result:
    requests: int
    duration_us: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    non200: int
    last_status: int
    socket_errors: int
    output: str

    @property
    def rate(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def errors(self) -> int:
        return self.non200 + self.socket_errors


def lua_string(value: str) -> str:
    """A Lua string literal (JSON escapes are valid Lua for the ASCII we send)."""
    return json.dumps(value)


def write_script(path: Path, body: str, authorization: str | None) -> Path:
    auth = f'wrk.headers["Authorization"] = {lua_string(authorization)}' if authorization else ""
    path.write_text(LUA.format(body=lua_string(body), auth=auth))
    return path


def wrk_binary() -> str:
    found = WRK if Path(WRK).exists() else shutil.which("wrk")
    if not found:
        raise BenchError("wrk is not installed: apt-get install -y wrk (or `make bench`)")
    return found


def parse(output: str) -> Result:
    lines = [line for line in output.splitlines() if line.startswith("BENCH ")]
    if not lines:
        raise BenchError(f"no BENCH line in wrk's output:\n{output}")
    fields = dict(item.split("=", 1) for item in lines[-1].split()[1:])
    values = {key: int(value) for key, value in fields.items()}
    return Result(
        requests=values["requests"],
        duration_us=values["duration_us"],
        p50_us=values["p50_us"],
        p90_us=values["p90_us"],
        p99_us=values["p99_us"],
        max_us=values["max_us"],
        non200=values["non200"],
        last_status=values["last_status"],
        socket_errors=sum(values[k] for k in ("connect", "read", "write", "timeout")),
        output=output,
    )


def run(
    port: int, path: str, script: Path, duration: float, connections: int, threads: int
) -> Result:
    """wrk -tT -cC -dDs --latency -s SCRIPT http://127.0.0.1:PORT/PATH, parsed."""
    seconds = max(1, round(duration))
    command = [
        wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
        "-s", str(script), f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish within {seconds + 60} s") from exc
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    return parse(done.stdout)
