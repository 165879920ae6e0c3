"""Per-request cost of the ack path, robust to a busy machine: CPU instructions (callgrind) or a
function profile (cProfile) of the real `POST /slack/events` server, for N signed mentions.

The server is the production composition (`bench/ingest.py`'s `_build_aiops_app`: signature
check → fast path → one Redis round trip) or the bare aiohttp endpoint, in its own process; the
client sends pre-signed requests from another process (a closed loop with a fixed number in
flight for callgrind, so batching is the same on every run; open loop for cProfile), so only the
server's work is counted. Two request counts are measured and differenced, so start-up and
warm-up cancel out:  instructions per request = (Ir(N2) - Ir(N1)) / (N2 - N1).

    .venv/bin/python bench/ack_cost.py callgrind [--target aiops|bare] [--n1 300 --n2 1300] [--concurrency 8]
    .venv/bin/python bench/ack_cost.py cprofile [--requests 20000]

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.ingest_load import SIGNING_SECRET, payloads
from bench.paced import open_loop
from bench.wrk_load import http_request
from sim.slack_events import signed

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _serve(target: str, prefix: str, profile: str | None) -> None:
    """Serve until stdin closes; print the port on stdout first."""
    from aiohttp import web

    from bench.ingest import _bare, _build_aiops_app, _cleanup
    from sim.slack import SlackSimulator

    sim = None
    if target in STAGES:
        app, close = await _stage_app(target, prefix)
    elif target == "aiops":
        sim = SlackSimulator()
        await sim.start()
        app, close = await _build_aiops_app(REDIS, DATABASE, prefix, sim, Path(tempfile.mkdtemp()))
    else:
        app, close = web.Application(), None
        app.router.add_post("/{tail:.*}", _bare)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    profiler = cProfile.Profile() if profile else None
    command = await loop.run_in_executor(None, sys.stdin.readline)  # "go": start profiling
    if profiler is not None and command.strip() == "go":
        profiler.enable()
        await loop.run_in_executor(None, sys.stdin.readline)
        profiler.disable()
        profiler.dump_stats(str(profile))
    await runner.cleanup()
    if close is not None:
        await close()
    if sim is not None:
        await sim.stop()
    await _cleanup(REDIS, prefix)


STAGES = ("sig", "parse", "decide", "submit")
"""Ablation: the ack path cut after each step, to price each one (`--target sig` …)."""


async def _stage_app(stage: str, prefix: str) -> tuple[Any, Any]:
    """A bare aiohttp app running the real ack-path functions up to `stage`."""
    import orjson
    import redis.asyncio as aioredis
    from aiohttp import web

    from handlers.fast_ack import EventDecision, EventIntake, decide_event
    from handlers.slack import hostile_body, signature_problem
    from kernel.metrics import Metrics

    redis = aioredis.Redis.from_url(REDIS)
    intake = EventIntake(redis=redis, prefix=prefix, metrics=Metrics())
    upto = STAGES.index(stage)

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if signature_problem(SIGNING_SECRET, request.headers, body) is not None:
            return web.Response(status=401)
        if upto >= 1:
            content_type = request.content_type
            if hostile_body(body.decode(), content_type, body):
                return web.Response(status=400)
            payload = orjson.loads(body)
        if upto >= 2:
            decision = decide_event(payload)
        if upto >= 3 and isinstance(decision, EventDecision):
            await intake.submit(decision)
        return web.Response(status=200)

    async def close() -> None:
        await intake.aclose()
        await redis.aclose()

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app, close


def _requests(count: int, port: int) -> list[tuple[str, bytes]]:
    out = []
    for event_id, body, _ in payloads(count, 0):
        req = signed(body, signing_secret=SIGNING_SECRET, content_type="application/json")
        out.append((event_id, http_request("/slack/events", f"127.0.0.1:{port}", req.headers, body)))
    return out


def _drive(port: int, count: int, rate: float, *, closed: int = 0) -> int:
    """Send `count` requests: open loop at `rate`, or closed loop with `closed` in flight (the
    same batching on every run, whatever the server's speed: what instruction counts need)."""
    if closed:
        return asyncio.run(_closed_loop(port, _requests(count, port), closed))
    result = asyncio.run(open_loop("127.0.0.1", port, _requests(count, port), rate=rate, connections=32))
    return result.statuses.get(200, 0)


async def _closed_loop(port: int, requests: list[tuple[str, bytes]], concurrency: int) -> int:
    todo = iter(requests)
    ok = 0

    async def connection() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _, raw in todo:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            await reader.readexactly(int(length.group(1)) if length else 0)
            ok += head.startswith(b"HTTP/1.1 200")
        writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return ok


def _start(cmd: list[str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    while True:  # library warnings may come first
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the server exited before listening")
        if line.strip().isdigit():
            return proc, int(line)


def _callgrind_once(target: str, count: int, warmup: int, closed: int) -> int:
    """Total instructions the server executed while answering `count` requests (after warm-up)."""
    out = Path(tempfile.mkdtemp()) / "callgrind.out"
    prefix = f"aiops-cost-{uuid.uuid4().hex[:8]}"
    me = [sys.executable, __file__, "serve", "--target", target, "--prefix", prefix]
    proc, port = _start(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                         f"--callgrind-out-file={out}", *me])
    try:
        _drive(port, warmup, 0, closed=closed)
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True)
        ok = _drive(port, count, 0, closed=closed)
        subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], check=True, capture_output=True)
        assert ok == count, f"{ok} of {count} answered 200"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(300)
    text = out.read_text(errors="replace")
    return max((int(m) for m in re.findall(r"^(?:summary|totals): (\d+)", text, re.M)), default=0)


def callgrind(args: argparse.Namespace) -> None:
    for target in args.target:
        t0 = time.monotonic()
        low = _callgrind_once(target, args.n1, args.warmup, args.concurrency)
        high = _callgrind_once(target, args.n2, args.warmup, args.concurrency)
        per = (high - low) / (args.n2 - args.n1)
        print(f"{target}: {per:,.0f} instructions per request "
              f"(Ir {low:,} for {args.n1}, {high:,} for {args.n2}; {time.monotonic() - t0:.0f} s)")


def cprofile(args: argparse.Namespace) -> None:
    stats = Path(tempfile.mkdtemp()) / "ack.prof"
    me = [sys.executable, __file__, "serve", "--target", "aiops", "--prefix",
          f"aiops-cost-{uuid.uuid4().hex[:8]}", "--profile", str(stats)]
    proc, port = _start(me)
    assert proc.stdin is not None
    try:
        _drive(port, 500, 2000)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(0.5)
        ok = _drive(port, args.requests, args.rate)
        proc.stdin.write("stop\n")
        proc.stdin.flush()
    finally:
        proc.stdin.close()
        proc.wait(60)
    print(f"{ok} requests answered 200 while profiling")
    pstats.Stats(str(stats)).sort_stats(args.sort).print_stats(args.top)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = p.add_subparsers(dest="mode", required=True)
    cg = sub.add_parser("callgrind")
    cg.add_argument("--target", action="append", choices=["aiops", "bare", *STAGES])
    cg.add_argument("--n1", type=int, default=300)
    cg.add_argument("--n2", type=int, default=1300)
    cg.add_argument("--warmup", type=int, default=200)
    cg.add_argument("--concurrency", type=int, default=8, help="requests in flight (closed loop)")
    cp = sub.add_parser("cprofile")
    cp.add_argument("--requests", type=int, default=20000)
    cp.add_argument("--rate", type=float, default=2000.0)
    cp.add_argument("--sort", default="tottime")
    cp.add_argument("--top", type=int, default=45)
    sv = sub.add_parser("serve")
    sv.add_argument("--target", choices=["aiops", "bare", *STAGES], default="aiops")
    sv.add_argument("--prefix", required=True)
    sv.add_argument("--profile")
    args = p.parse_args(argv)
    if args.mode == "serve":
        asyncio.run(_serve(args.target, args.prefix, args.profile))
    elif args.mode == "callgrind":
        args.target = args.target or ["aiops", "bare"]
        callgrind(args)
    else:
        cprofile(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
