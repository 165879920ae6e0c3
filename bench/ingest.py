"""Ack-path benchmark: signed `app_mention` events into the real `POST /slack/events`.

Measures what Slack sees — time from sending a signed event to its HTTP 200 — for the real
app as `aiops.bootstrap` composes it (signature check → fast path: decide, one Redis round trip
for dedup + XADD; Slack's Web API played by the simulator and never called on the ack path,
PostgreSQL and Redis real) next to a bare aiohttp endpoint that answers 200 to any POST, both
in the same run on the same machine and under the same load.

Closed loop: wrk (C, Debian's `wrk`; installed when missing and root) with pre-signed requests,
32 connections, alternating bare/aiops rounds — a Python client on the same cores cannot load
the bare endpoint, so its ratio would flatter. `--client python` keeps the in-process client
(used by the test). Then aiops alone, open loop at half its measured throughput (latency counted
from when each request was due). Finally the stream is counted: every acknowledged event must be
on it exactly once (redeliveries with `X-Slack-Retry-Num` are deduplicated, not lost).

Each server runs in its own process; loopback only. Figures are printed, never asserted.

    .venv/bin/python bench/ingest.py [--client wrk|python] [--concurrency 32] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import web

from sim.slack import SlackSimulator
from sim.slack_events import signed

if __package__ in (None, ""):  # run as a script: make the sibling module importable as bench.*
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.ingest_load import SIGNING_SECRET, USER, Run, closed_loop, paced_phase, payloads
from bench.wrk_load import WrkResult, ensure_wrk, http_request, run_wrk, write_script

ALERT_TOKEN = "bench-alert-token"


# ---- servers (child processes) -----------------------------------------------------------------


async def _build_aiops_app(
    redis_url: str, database_url: str, prefix: str, sim: SlackSimulator, workdir: Path
) -> tuple[web.Application, Callable[[], Awaitable[None]]]:
    """The production composition root (`aiops.bootstrap.build_runtime` → `Runtime.web_app()`),
    configured like a real process: secrets as files, settings from an environment mapping."""
    from aiops.bootstrap import build_runtime
    from app.config import load_secrets, load_settings

    secrets_dir = workdir / "secrets"
    secrets_dir.mkdir()
    for name, value in {"slack_bot_token": sim.bot_token, "slack_signing_secret": SIGNING_SECRET,
                        "alertmanager_token": ALERT_TOKEN}.items():
        (secrets_dir / name).write_text(value + "\n")
    identities = workdir / "identities.yaml"
    identity = {"slack_user_id": USER, "sub": "kc-bench", "preferred_username": "bench",
                "aiops_namespaces": ["default"], "aiops_roles": ["viewer"]}
    identities.write_text(json.dumps([identity]))  # JSON is YAML
    settings = load_settings({
        "SLACK_API_URL": sim.base_url, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "AIOPS_REDIS_PREFIX": prefix, "AIOPS_SECRETS_DIR": str(secrets_dir),
        "AIOPS_DATA_DIR": str(workdir / "data"), "AIOPS_IDENTITY_MODE": "static", "AIOPS_ENV": "dev",
        "AIOPS_STATIC_IDENTITIES": str(identities), "AIOPS_AGENT_VERSION": "bench",
    })
    runtime = await build_runtime(settings, load_secrets(settings.secrets_dir))
    return runtime.web_app(), runtime.aclose


async def _bare(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=200)


async def _serve(kind: str, conn: Connection, redis_url: str, database_url: str, prefix: str) -> None:
    sim: SlackSimulator | None = None
    close: Callable[[], Awaitable[None]] | None = None
    workdir = Path(tempfile.mkdtemp(prefix="aiops-bench-"))
    if kind == "aiops":
        sim = SlackSimulator()  # Bolt's auth.test and any Web API call go here, never to slack.com
        await sim.start()
        app, close = await _build_aiops_app(redis_url, database_url, prefix, sim, workdir)
    else:
        app = web.Application()
        app.router.add_post("/{tail:.*}", _bare)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    conn.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"
    await runner.cleanup()
    if close is not None:
        await close()
    if sim is not None:
        await sim.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def _serve_process(kind: str, conn: Connection, redis_url: str, database_url: str, prefix: str) -> None:
    asyncio.run(_serve(kind, conn, redis_url, database_url, prefix))


async def _stream_count(redis_url: str, prefix: str) -> int:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        return int(await redis.xlen(f"{prefix}:jobs"))
    finally:
        await redis.aclose()


async def _cleanup(redis_url: str, prefix: str) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*", count=1000)]
        for i in range(0, len(keys), 500):
            await redis.delete(*keys[i:i + 500])
    finally:
        await redis.aclose()


Proc = multiprocessing.process.BaseProcess


def _start(kind: str, args: argparse.Namespace, prefix: str) -> tuple[Proc, Connection, int]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve_process, daemon=True,
                       args=(kind, child, args.redis_url, args.database_url, prefix))
    proc.start()
    if not parent.poll(60):
        proc.kill()
        raise RuntimeError(f"{kind} server did not start within 60 s (exit code {proc.exitcode})")
    return proc, parent, int(parent.recv())


def _stop(proc: Proc, conn: Connection) -> None:
    conn.send("stop")
    proc.join(10)
    if proc.is_alive():
        proc.kill()


@dataclass
class WrkTotals:
    """wrk rounds of one target, summed."""

    name: str
    rounds: list[WrkResult] = field(default_factory=list)
    unique_ok: set[str] = field(default_factory=set)
    """Distinct event ids acknowledged outside wrk (warm-up, paced phase)."""
    cpu_s: float = 0.0
    """CPU time the server process used during the rounds: per request, robust to a busy machine."""

    @property
    def cpu_per_request_us(self) -> float:
        ok = sum(r.ok for r in self.rounds)
        return self.cpu_s / ok * 1e6 if ok else float("nan")

    @property
    def rps(self) -> float:
        seconds = sum(r.seconds for r in self.rounds)
        return sum(r.ok for r in self.rounds) / seconds if seconds else 0.0

    def pct(self, q: float) -> float:  # worst round: a bad round must show
        return max((r.p50_ms if q == 50 else r.p99_ms) for r in self.rounds) if self.rounds else float("nan")

    @property
    def acked_distinct(self) -> int:
        return sum(min(r.ok, r.distinct_sent) for r in self.rounds)


Closed = Run | WrkTotals


def _print(bare: Closed, real: Closed, paced: Run, stream: int) -> None:
    rows = [("target", "req/s", "p50 ms", "p99 ms")]
    shown = [bare, real, *([paced] if paced.sent else []), *([paced.baseline] if paced.baseline else [])]
    for r in shown:
        rows.append((r.name, f"{r.rps:,.0f}", f"{r.pct(50):.2f}", f"{r.pct(99):.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        pairs = enumerate(zip(row, widths, strict=True))
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs))
    if bare.rps and real.rps:
        print(f"ratio aiops/bare: throughput x{real.rps / bare.rps:.2f} "
              f"({real.rps:,.0f} / {bare.rps:,.0f} req/s)")
    if isinstance(bare, WrkTotals) and isinstance(real, WrkTotals) and bare.cpu_s and real.cpu_s:
        print(f"server CPU per request: bare {bare.cpu_per_request_us:.0f} us, aiops "
              f"{real.cpu_per_request_us:.0f} us -> ratio with a core each: "
              f"x{bare.cpu_per_request_us / real.cpu_per_request_us:.2f}")
    for w in (bare, real):
        for i, rnd in enumerate(w.rounds if isinstance(w, WrkTotals) else []):
            print(f"  {w.name} round {i + 1}: {rnd.ok} x 200 in {rnd.seconds:.1f} s, non-2xx {rnd.non2xx}, "
                  f"socket errors {rnd.socket_errors}" + (" (ran out of events: wrapped)" * rnd.wrapped))
        if isinstance(w, Run) and w.errors:
            print(f"{w.name} non-200: {w.errors}")
    if paced.errors:
        print(f"{paced.name} non-200: {paced.errors}")
    acked = (real.acked_distinct if isinstance(real, WrkTotals) else 0) + len(real.unique_ok)
    lost = acked - stream
    print(f"stream entries: {stream} for {acked} distinct events acknowledged (warm-up and paced "
          f"included); lost: {max(lost, 0)}" + (
              f"; {-lost} queued whose 200 wrk stopped waiting for"
              if lost < 0 and isinstance(real, WrkTotals)
              else f", duplicated: {max(-lost, 0)}"))


def _wrk_requests(count: int, port: int) -> list[bytes]:
    """Pre-signed first deliveries (no redeliveries: those are cheaper and would flatter)."""
    out = []
    for _event_id, body, _ in payloads(count, 0):
        req = signed(body, signing_secret=SIGNING_SECRET, content_type="application/json")
        out.append(http_request("/slack/events", f"127.0.0.1:{port}", req.headers, body))
    return out


def _cpu_seconds(pid: int) -> float:
    """user + system CPU of a process (Linux /proc), 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _wrk_rounds(
    args: argparse.Namespace, wrk: str, ports: dict[str, int], pids: dict[str, int]
) -> dict[str, WrkTotals]:
    totals = {"bare": WrkTotals("bare aiohttp (wrk)"), "aiops": WrkTotals("aiops POST /slack/events (wrk)")}
    workdir = Path(tempfile.mkdtemp(prefix="aiops-wrk-"))
    threads = 2 if args.concurrency >= 2 else 1
    try:
        for rnd in range(max(1, args.rounds)):
            script = workdir / f"round{rnd}.lua"  # fresh ids per round: aiops must XADD every one
            write_script(script, _wrk_requests(args.wrk_requests, ports["aiops"]), threads=threads)
            for kind, total in totals.items():
                url = f"http://127.0.0.1:{ports[kind]}/slack/events"
                before = _cpu_seconds(pids[kind])
                total.rounds.append(await asyncio.to_thread(
                    run_wrk, wrk, url, script, connections=args.concurrency, threads=threads,
                    seconds=args.seconds / max(1, args.rounds)))
                total.cpu_s += _cpu_seconds(pids[kind]) - before
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return totals


async def run_bench(args: argparse.Namespace) -> tuple[Closed, Closed, Run, int]:
    """Both servers up, then `rounds` alternating load phases (bare, aiops, bare, aiops…) so
    that drift in a shared machine's load hits both alike; then aiops alone, open loop at half
    its measured throughput. Returns (bare, aiops, paced, stream length)."""
    prefix = f"aiops-bench-{uuid.uuid4().hex[:10]}"
    wrk = ensure_wrk() if args.client == "wrk" else None
    if args.client == "wrk" and wrk is None:
        print("wrk unavailable (not installed, not root): falling back to the Python client, whose "
              "ratio flatters aiops (it cannot load the bare endpoint)")
    servers = {kind: await asyncio.to_thread(_start, kind, args, prefix) for kind in ("bare", "aiops")}
    ports = {kind: server[2] for kind, server in servers.items()}
    try:
        # the first request is not special (no auth.test), but connect the Lua script and pool
        warm = Run("warm-up")
        await closed_loop(warm, f"http://127.0.0.1:{ports['aiops']}/slack/events", [],
                    concurrency=1, seconds=1, warmup=payloads(min(args.warmup, 50), 0))
        runs: dict[str, Closed]
        if wrk is not None:
            print(f"ingest bench: wrk, {args.concurrency} connections, {args.rounds} alternating rounds "
                  f"of {args.seconds / max(1, args.rounds):.0f} s per target, {os.cpu_count()} CPUs")
            pids = {kind: int(server[0].pid or 0) for kind, server in servers.items()}
            runs = dict(await _wrk_rounds(args, wrk, ports, pids))
        else:
            runs = await _python_rounds(args, ports)
        paced = Run(f"aiops paced at {runs['aiops'].rps / 2:,.0f} req/s")
        if args.paced_events and runs["aiops"].rps:
            await paced_phase(paced, ports["aiops"], payloads(args.paced_events, args.retry_every),
                         rate=runs["aiops"].rps / 2)
            paced.baseline = Run(f"bare paced at {runs['aiops'].rps / 2:,.0f} req/s (baseline)")
            await paced_phase(paced.baseline, ports["bare"], payloads(args.paced_events, args.retry_every),
                              rate=runs["aiops"].rps / 2)
        runs["aiops"].unique_ok |= warm.unique_ok | paced.unique_ok  # all must be on the stream
        return runs["bare"], runs["aiops"], paced, await _stream_count(args.redis_url, prefix)
    finally:
        for proc, conn, _port in servers.values():
            await asyncio.to_thread(_stop, proc, conn)
        await _cleanup(args.redis_url, prefix)


async def _python_rounds(args: argparse.Namespace, ports: dict[str, int]) -> dict[str, Closed]:
    todo = payloads(args.events, args.retry_every)
    rounds = max(1, args.rounds)
    size = -(-len(todo) // rounds)
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    print(f"ingest bench: Python client, {len(todo)} requests ({args.events} events, 1 in "
          f"{args.retry_every} redelivered) in {len(chunks)} alternating rounds, concurrency "
          f"{args.concurrency}, {os.cpu_count()} CPUs, loopback")
    runs: dict[str, Run] = {"bare": Run("bare aiohttp (200 on any POST)"),
                            "aiops": Run("aiops POST /slack/events")}
    for chunk in chunks:
        for kind, run in runs.items():
            await closed_loop(run, f"http://127.0.0.1:{ports[kind]}/slack/events", chunk,
                        concurrency=args.concurrency, seconds=args.seconds / len(chunks), warmup=[])
    return dict(runs)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk",
                        help="closed-loop load generator (default wrk)")
    parser.add_argument("--wrk-requests", type=int, default=150_000,
                        help="pre-signed distinct events per wrk round (default 150000)")
    parser.add_argument("--events", type=int, default=2000,
                        help="distinct events to send with --client python (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    parser.add_argument("--seconds", type=float, default=20.0, help="time per target (default 20)")
    parser.add_argument("--retry-every", type=int, default=10,
                        help="redeliver every Nth event with X-Slack-Retry-Num (0 = never; default 10)")
    parser.add_argument("--paced-events", type=int, default=1000,
                        help="events sent open-loop at half the measured aiops rate (0 = skip; default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests first (default 50)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating load phases per target (default 2)")
    parser.add_argument("--database-url",
                        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                        help="PostgreSQL the runtime connects to (nothing is written on the ack path)")
    parser.add_argument("--redis-url", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
                        help="Redis for the job stream (keys use a unique prefix, deleted afterwards)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bare, real, paced, stream = asyncio.run(run_bench(args))
    _print(bare, real, paced, stream)
    return 0


if __name__ == "__main__":
    sys.exit(main())
