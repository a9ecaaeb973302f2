"""Driving one scenario with wrk and reading its results.

wrk runs as a separate process on loopback with a Lua script written here
(the same for every server, Gatehouse or not) that sets the method, form body
and headers, counts every non-200 response in a ``response`` hook and prints
one machine-readable ``BENCH`` line from ``done``. wrk's socket errors are
kept apart: ``connect`` (refused: nothing listening), ``read`` (the
connection closed or reset before a whole response came back), ``write``
(the request could not be sent) and ``timeout``.
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.client import HOST
from bench.environment import BenchError

WRK = "/usr/bin/wrk"
TIMEOUT = "2s"  # wrk's per-request timeout

LUA = """\
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
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
    requests: int  # responses received, whatever their status
    duration_us: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    non200: int
    last_status: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    wrk_cpu_s: float
    output: str

    @property
    def rate(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def socket_errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

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


def parse(output: str, wrk_cpu_s: float = 0.0) -> Result:
    lines = [line for line in output.splitlines() if line.startswith("BENCH ")]
    if not lines:
        raise BenchError(f"no BENCH line in wrk's output:\n{output}")
    fields = dict(item.split("=", 1) for item in lines[-1].split()[1:])
    v = {key: int(value) for key, value in fields.items()}
    return Result(
        requests=v["requests"],
        duration_us=v["duration_us"],
        p50_us=v["p50_us"],
        p90_us=v["p90_us"],
        p99_us=v["p99_us"],
        max_us=v["max_us"],
        non200=v["non200"],
        last_status=v["last_status"],
        connect_errors=v["connect"],
        read_errors=v["read"],
        write_errors=v["write"],
        timeouts=v["timeout"],
        wrk_cpu_s=wrk_cpu_s,
        output=output,
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Load:
    """One wrk process: ``finish`` waits for it, ``interrupt`` ends it early (it still reports)."""

    def __init__(self, url: str, script: Path, seconds: float, connections: int, threads: int):
        if not url.startswith(f"http://{HOST}:"):
            raise BenchError(f"refusing a non-loopback URL: {url}")
        self.seconds = max(1, round(seconds))
        command = [
            wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{self.seconds}s",
            "--timeout", TIMEOUT, "--latency", "-s", str(script), url,
        ]  # fmt: skip
        self._cpu = _children_cpu()
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def interrupt(self) -> None:
        """SIGINT: wrk stops early and still prints its summary."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def finish(self) -> Result:
        limit = self.seconds + 60
        try:
            out, err = self.process.communicate(timeout=limit)
        except subprocess.TimeoutExpired as exc:
            self.kill()
            raise BenchError(f"wrk did not finish within {limit} s") from exc
        except BaseException:
            self.kill()
            raise
        cpu = _children_cpu() - self._cpu
        text = out.decode(errors="replace")
        if self.process.returncode != 0:
            raise BenchError(f"wrk failed ({self.process.returncode}):\n{err.decode()}{text}")
        return parse(text, cpu)


def run(url: str, script: Path, seconds: float, connections: int, threads: int) -> Result:
    """wrk -tT -cC -dDs --latency -s SCRIPT URL, parsed."""
    return Load(url, script, seconds, connections, threads).finish()
