"""The ingest bench's own clients: signed event payloads, the in-process aiohttp closed-loop
client (`--client python`, used by the test) and the paced open-loop phase (bench/paced.py)."""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

from bench.paced import open_loop
from bench.wrk_load import http_request
from sim.slack_events import app_mention_event, event_callback, json_body, signed

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
CHANNEL = "C0BENCH"
USER = "U0BENCH"


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
    baseline: Run | None = None
    """The same paced load against the bare endpoint: what the client and machine alone cost."""

    @property
    def rps(self) -> float:
        return self.ok / self.wall if self.wall else 0.0

    def pct(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1] * 1000


_TS = itertools.count()


def payloads(count: int, retry_every: int) -> list[Payload]:
    """(event_id, body, retry_num): every `retry_every`-th event is followed by its redelivery."""
    out: list[Payload] = []
    base = int(time.time())
    for i in range(count):
        event_id = f"EvBENCH{i:07d}{uuid.uuid4().hex[:6]}"
        n = next(_TS)  # a distinct message ts per event, as Slack's (the ack dedups on channel + ts)
        ts = f"{base + n // 1_000_000}.{n % 1_000_000:06d}"
        event = app_mention_event(user=USER, channel=CHANNEL, text=f"<@U0AIOPS> bench question {i}", ts=ts)
        body, _ = json_body(event_callback(event, event_id=event_id))
        out.append((event_id, body, None))
        if retry_every and i % retry_every == retry_every - 1:
            out.append((event_id, body, 1))
    return out


async def send(session: aiohttp.ClientSession, url: str, run: Run, payload: Payload, *,
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


async def closed_loop(run: Run, url: str, payloads: list[Payload], *, concurrency: int, seconds: float,
                warmup: list[Payload]) -> None:
    """Send `warmup` (unmeasured, one at a time) then `payloads` with `concurrency` in flight;
    the results accumulate into `run`."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for payload in warmup:  # connections, auth.test, Lua script load
            await send(session, url, run, payload, record=False)
        todo = iter(payloads)
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            for payload in todo:
                if time.perf_counter() > deadline:
                    return
                await send(session, url, run, payload)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        run.wall += time.perf_counter() - started


async def paced_phase(run: Run, port: int, payloads: list[Payload], *, rate: float) -> None:
    """Open loop at a constant arrival rate (bench/paced.py): latency counts from when each
    request was due. Requests are signed beforehand so the client stays light."""
    requests = []
    for event_id, body, retry_num in payloads:
        req = signed(body, signing_secret=SIGNING_SECRET, content_type="application/json",
                     retry_num=retry_num)
        requests.append((event_id, http_request("/slack/events", f"127.0.0.1:{port}", req.headers, body)))
    # The client's own pauses must not count as server latency: after the wrk rounds this process
    # holds millions of objects, and one full collection stalled every request by ~0.5 s.
    gc.collect()
    gc.freeze()
    try:
        result = await open_loop("127.0.0.1", port, requests, rate=rate)
    finally:
        gc.unfreeze()
    run.sent += result.sent
    run.ok += result.statuses.get(200, 0)
    run.latencies += result.latencies
    run.unique_ok |= result.ok_ids
    run.unique_sent |= {event_id for event_id, _ in requests}
    run.wall += result.wall
    for status, count in result.statuses.items():
        if status != 200:
            run.errors[str(status)] = run.errors.get(str(status), 0) + count


