"""Closed-loop load with wrk (Debian's `wrk`): a C load generator that, unlike a Python client on
the same two cores, can saturate a bare aiohttp endpoint — so the aiops/bare ratio is honest.

wrk cannot sign requests, so each run gets a generated Lua script holding pre-signed, complete
HTTP requests (distinct event ids, signed with a fresh timestamp). Lua allows 65,536 constants
per function: the requests are split into chunk functions of `CHUNK` entries. Each wrk thread
walks its own slice (no event sent twice unless the slice runs out — then it wraps and says so)
and `done()` prints one JSON line: requests, non-2xx, socket errors, p50/p99, distinct sent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CHUNK = 20_000
RESULT_MARK = "WRK-RESULT "


def ensure_wrk() -> str | None:
    """Path of `wrk`; installs Debian's package when missing and running as root, else None."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("wrk missing: installing Debian's wrk package")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    return shutil.which("wrk")


def _lua_string(raw: bytes) -> str:
    text = raw.decode("latin-1")
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n")
    return '"' + text + '"'


def http_request(path: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    """One complete HTTP/1.1 request, as wrk would format it (keep-alive)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def write_script(path: Path, requests: list[bytes], *, threads: int) -> None:
    """A wrk Lua script that sends `requests`, thread t taking entries t, t+threads, …"""
    out = [f"local THREADS = {threads}", "local reqs = {}"]
    for c in range(0, len(requests), CHUNK):
        part = requests[c:c + CHUNK]
        out.append(f"local function chunk{c // CHUNK}()")
        out.append("  local t = {" + ",\n".join(_lua_string(r) for r in part) + "}")
        out.append("  for i = 1, #t do reqs[#reqs + 1] = t[i] end")
        out.append("end")
        out.append(f"chunk{c // CHUNK}()")
    out.append(_LUA_DRIVER)
    path.write_text("\n".join(out), encoding="latin-1")


_LUA_DRIVER = r"""
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  mine = {}
  for i = tid + 1, #reqs, THREADS do mine[#mine + 1] = reqs[i] end
  reqs = nil
  sent = 0
  size = #mine
end
function request()
  sent = sent + 1
  return mine[((sent - 1) % size) + 1]
end
function done(summary, latency, requests)
  local distinct, wrapped = 0, false
  for _, t in ipairs(threads) do
    local s, n = t:get("sent"), t:get("size")
    if s > n then wrapped = true; distinct = distinct + n else distinct = distinct + s end
  end
  io.write(string.format(
    'WRK-RESULT {"requests": %d, "non2xx": %d, "socket_errors": %d, "seconds": %f, ' ..
    '"p50_ms": %f, "p99_ms": %f, "distinct_sent": %d, "wrapped": %s}\n',
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    distinct, tostring(wrapped)))
end
"""


@dataclass
class WrkResult:
    requests: int
    non2xx: int
    socket_errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    distinct_sent: int
    wrapped: bool

    @property
    def ok(self) -> int:
        return self.requests - self.non2xx

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def run_wrk(
    wrk: str, url: str, script: Path, *, connections: int, threads: int, seconds: float
) -> WrkResult:
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
           "-s", str(script), url]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=seconds + 120)
    match = re.search(re.escape(RESULT_MARK) + r"(\{.*\})", proc.stdout)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout[-500:]}")
    return WrkResult(**json.loads(match.group(1)))
