"""Ack-path benchmark: signed `app_mention` events into the real `POST /slack/events`.

Measures what Slack sees — time from sending a signed event to its HTTP 200 — for the real
app as `aiops.bootstrap` composes it (our signature check → Bolt → listener → Redis dedup +
XADD; Slack's Web API played by the simulator, PostgreSQL and Redis real) next to a bare
aiohttp endpoint that answers 200 to any POST, both in the same run on the same machine and
under the same load. Then counts the stream entries: every accepted event must be on the
stream exactly once (redeliveries with `X-Slack-Retry-Num` are deduplicated, not lost).

Each server runs in its own process (the load generator must not steal its event loop);
loopback only, bounded by --events and --seconds. Figures are printed, never asserted.

    .venv/bin/python bench/ingest.py [--events 2000] [--concurrency 32] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from sim.slack import SlackSimulator
from sim.slack_events import app_mention_event, event_callback, json_body, signed

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
ALERT_TOKEN = "bench-alert-token"
CHANNEL = "C0BENCH"
USER = "U0BENCH"


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


# ---- load generator ----------------------------------------------------------------------------


Payload = tuple[str, bytes, int | None]


@dataclass
class Run:
    name: str
    sent: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    unique_ok: set[str] = field(default_factory=set)
    """Distinct event ids answered 200, warm-up included (all of them must be on the stream)."""
    unique_sent: set[str] = field(default_factory=set)

    @property
    def rps(self) -> float:
        return self.ok / self.wall if self.wall else 0.0

    def pct(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1] * 1000


def _payloads(count: int, retry_every: int) -> list[Payload]:
    """(event_id, body, retry_num): every `retry_every`-th event is followed by its redelivery."""
    out: list[Payload] = []
    base = time.time()
    for i in range(count):
        event_id = f"EvBENCH{i:07d}{uuid.uuid4().hex[:6]}"
        ts = f"{int(base)}.{i:06d}"
        event = app_mention_event(user=USER, channel=CHANNEL, text=f"<@U0AIOPS> bench question {i}", ts=ts)
        body, _ = json_body(event_callback(event, event_id=event_id))
        out.append((event_id, body, None))
        if retry_every and i % retry_every == retry_every - 1:
            out.append((event_id, body, 1))
    return out


async def _send(session: aiohttp.ClientSession, url: str, run: Run, payload: Payload, *,
                since: float | None = None, record: bool = True) -> None:
    """One signed POST; its outcome accumulates into `run`. Latency counts from `since` (when
    the request was due) or, by default, from when it was sent."""
    event_id, body, retry_num = payload
    req = signed(body, signing_secret=SIGNING_SECRET, content_type="application/json", retry_num=retry_num)
    start = time.perf_counter() if since is None else since
    try:
        async with session.post(url, data=req.body, headers=req.headers) as resp:
            await resp.read()
            status = resp.status
    except aiohttp.ClientError as exc:
        status, err = -1, type(exc).__name__
    else:
        err = str(status)
    if status == 200:
        run.unique_ok.add(event_id)
    if not record:
        return
    run.sent += 1
    run.unique_sent.add(event_id)
    if status == 200:
        run.ok += 1
        run.latencies.append(time.perf_counter() - start)
    else:
        run.errors[err] = run.errors.get(err, 0) + 1


async def _load(run: Run, url: str, payloads: list[Payload], *, concurrency: int, seconds: float,
                warmup: list[Payload]) -> None:
    """Send `warmup` (unmeasured, one at a time) then `payloads` with `concurrency` in flight;
    the results accumulate into `run`."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for payload in warmup:  # connections, auth.test, Lua script load
            await _send(session, url, run, payload, record=False)
        todo = iter(payloads)
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            for payload in todo:
                if time.perf_counter() > deadline:
                    return
                await _send(session, url, run, payload)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        run.wall += time.perf_counter() - started


async def _paced(run: Run, url: str, payloads: list[Payload], *, rate: float) -> None:
    """Open loop at a constant arrival rate: request i is due at t0 + i/rate whatever happened
    to the earlier ones, and its latency counts from when it was due (no coordinated omission)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(due: float, payload: Payload) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await _send(session, url, run, payload, since=due)

        t0 = time.perf_counter() + 0.05
        started = time.perf_counter()
        await asyncio.gather(*(one(t0 + i / rate, p) for i, p in enumerate(payloads)))
        run.wall += time.perf_counter() - started


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


def _print(bare: Run, real: Run, paced: Run, stream: int) -> None:
    rows = [("target", "sent", "200s", "req/s", "p50 ms", "p99 ms")]
    for r in (bare, real, paced) if paced.sent else (bare, real):
        rows.append((r.name, str(r.sent), str(r.ok), f"{r.rps:,.0f}", f"{r.pct(50):.2f}", f"{r.pct(99):.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        print("  ".join(cells))
    if bare.rps and real.rps:
        print(f"ratio aiops/bare: throughput x{real.rps / bare.rps:.2f}, "
              f"p50 x{real.pct(50) / bare.pct(50):.1f}, p99 x{real.pct(99) / bare.pct(99):.1f}")
    for r in (bare, real, paced):
        if r.errors:
            print(f"{r.name} non-200: {r.errors}")
    lost = len(real.unique_ok) - stream
    print(f"stream entries: {stream} for {len(real.unique_ok)} distinct events acknowledged (warm-up "
          f"and paced included); {real.sent - len(real.unique_sent)} measured redeliveries deduplicated; "
          f"lost: {max(lost, 0)}, duplicated: {max(-lost, 0)}")


async def run_bench(args: argparse.Namespace) -> tuple[Run, Run, Run, int]:
    """Both servers up, then `rounds` alternating load phases (bare, aiops, bare, aiops…) so
    that drift in a shared machine's load hits both alike; then aiops alone, open loop at half
    its measured throughput. Returns (bare, aiops, paced, stream length)."""
    prefix = f"aiops-bench-{uuid.uuid4().hex[:10]}"
    payloads = _payloads(args.events, args.retry_every)
    n_warm = min(args.warmup, len(payloads) // 10)
    warmup, measured = payloads[:n_warm], payloads[n_warm:]
    rounds = max(1, args.rounds)
    size = -(-len(measured) // rounds)
    chunks = [measured[i:i + size] for i in range(0, len(measured), size)]
    print(f"ingest bench: {len(measured)} requests ({args.events} events, 1 in {args.retry_every} "
          f"redelivered) in {len(chunks)} alternating rounds, concurrency {args.concurrency}, "
          f"limit {args.seconds:.0f} s per target, {os.cpu_count()} CPUs, loopback")
    runs = {"bare": Run("bare aiohttp (200 on any POST)"), "aiops": Run("aiops POST /slack/events")}
    servers = {kind: await asyncio.to_thread(_start, kind, args, prefix) for kind in runs}
    try:
        for i, chunk in enumerate(chunks):
            for kind, run in runs.items():
                url = f"http://127.0.0.1:{servers[kind][2]}/slack/events"
                await _load(run, url, chunk, concurrency=args.concurrency,
                            seconds=args.seconds / len(chunks), warmup=warmup if i == 0 else [])
        paced = Run(f"aiops paced at {runs['aiops'].rps / 2:,.0f} req/s")
        if args.paced_events and runs["aiops"].rps:
            await _paced(paced, f"http://127.0.0.1:{servers['aiops'][2]}/slack/events",
                         _payloads(args.paced_events, args.retry_every), rate=runs["aiops"].rps / 2)
        runs["aiops"].unique_ok |= paced.unique_ok  # every acknowledged event must be on the stream
        return runs["bare"], runs["aiops"], paced, await _stream_count(args.redis_url, prefix)
    finally:
        for proc, conn, _port in servers.values():
            await asyncio.to_thread(_stop, proc, conn)
        await _cleanup(args.redis_url, prefix)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000, help="distinct events to send (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per target (default 30)")
    parser.add_argument("--retry-every", type=int, default=10,
                        help="redeliver every Nth event with X-Slack-Retry-Num (0 = never; default 10)")
    parser.add_argument("--paced-events", type=int, default=1000,
                        help="events sent open-loop at half the measured aiops rate (0 = skip; default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests first (default 50)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternating load phases per target (default 4)")
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
