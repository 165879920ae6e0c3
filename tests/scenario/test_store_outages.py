"""Store outages lose nothing (receiver and workers as separate processes, real servers).

- PostgreSQL (the audit store) stopped for 60 s in the middle of a 200-question burst: every
  question is acked, none is refused or lost, no answer is shown while its audit row cannot be
  written, the waiting threads get one "delayed" status each, and after recovery every
  question is answered exactly once with its `query` audit row.
- Redis restarted (AOF on) in the middle of a burst: the receiver accepts again once Redis is
  back, and every event that was acknowledged with HTTP 200 is answered exactly once.

The servers stopped here are private instances (tests/fixtures/private_servers.py); the
machine's shared PostgreSQL and Redis are never touched.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis

from app import messages
from app.audit.migrate import migrate
from sim.slack import SlackMessage, SlackSimulator
from sim.slack_events import SendResult, SlackEventSender, json_body
from tests.fixtures.private_servers import PrivatePostgres, PrivateRedis, free_port, private_pg, private_redis
from tests.scenario.conftest import ALICE, AUDIT_REF, CHANNEL, audit_ref, spawn_cli, visible

__all__ = ["private_pg", "private_redis"]  # fixtures used below
pytestmark = pytest.mark.slow
EVENTS = 200
OUTAGE_S = float(os.environ.get("AIOPS_TEST_OUTAGE_S", "60"))  # shorter only when debugging locally


# ---- processes ---------------------------------------------------------------------------------


class Procs:
    """`aiops` processes with their output drained (a full pipe would stall them) and kept."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.output: list[str] = []
        self._lock = threading.Lock()

    def spawn(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        proc = spawn_cli(self.env | (extra_env or {}), *args)
        for stream in (proc.stdout, proc.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()
        self.procs.append(proc)
        return proc

    def _drain(self, stream: object) -> None:
        for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
            with self._lock:
                self.output.append(line.decode(errors="replace"))

    def text(self) -> str:
        with self._lock:
            return "".join(self.output)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


async def start_receiver(procs: Procs) -> str:
    """`aiops serve --no-workers` on a free port; returns its base URL once /readyz is 200."""
    port = free_port()
    proc = procs.spawn("serve", "--no-workers", extra_env={"AIOPS_HTTP_PORT": str(port)})
    url = f"http://127.0.0.1:{port}/"
    async with aiohttp.ClientSession() as s:
        for _ in range(600):  # start-up imports take a few seconds on a busy machine
            assert proc.poll() is None, procs.text()
            try:
                async with s.get(url + "readyz") as resp:
                    if resp.status == 200:
                        return url
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("receiver never became ready:\n" + procs.text())


@pytest.fixture
def procs(scenario_env: dict[str, str]) -> Iterator[Procs]:
    p = Procs(scenario_env)
    try:
        yield p
    finally:
        p.stop_all()


# ---- the burst ---------------------------------------------------------------------------------


@dataclass
class Burst:
    sender: SlackEventSender
    results: dict[int, SendResult] = field(default_factory=dict)
    started: dict[int, float] = field(default_factory=dict)
    roots: dict[int, str] = field(default_factory=dict)
    finished: dict[int, float] = field(default_factory=dict)

    async def send(self, indexes: range, *, parallel: int = 8) -> None:
        gate = asyncio.Semaphore(parallel)

        async def one(i: int) -> None:
            async with gate:
                self.started[i] = time.monotonic()
                res = await self.sender.mention(ALICE, CHANNEL, question(i))
                self.finished[i] = time.monotonic()
                self.results[i] = res
                self.roots[i] = res.payload["event"]["ts"]

        await asyncio.gather(*(one(i) for i in indexes))

    def latency(self, i: int) -> float:
        return self.finished[i] - self.started[i]

    def acked(self) -> list[int]:
        return [i for i, r in self.results.items() if r.status == 200]


def question(i: int) -> str:
    return f"q{i:03d}: why is checkout slow?"


def answers(slack: SlackSimulator, root: str) -> list[SlackMessage]:
    return [m for m in slack.bot_replies(CHANNEL, root) if AUDIT_REF in visible(m)]


def notices(slack: SlackSimulator, root: str) -> int:
    return sum(messages.DELAYED_AUDIT_STORE in visible(m) for m in slack.bot_replies(CHANNEL, root))


async def wait_all_answered(
    slack: SlackSimulator, burst: Burst, procs: Procs, *, timeout: float  # noqa: ASYNC109
) -> None:
    try:
        await slack.wait_for(
            lambda: all(answers(slack, root) for root in burst.roots.values()),
            timeout=timeout,
            what=f"{len(burst.roots)} answers",
        )
    except TimeoutError as exc:
        missing = sum(1 for root in burst.roots.values() if not answers(slack, root))
        said = procs.text()[-6000:]
        raise AssertionError(f"{missing} questions unanswered; processes said:\n{said}") from exc


async def no_pending(slack: SlackSimulator, redis_url: str, prefix: str) -> None:
    """Every job is acked (the XACK follows the answer by a few Redis round trips)."""
    client = aioredis.Redis.from_url(redis_url)

    async def done() -> bool:
        info = await client.xpending(f"{prefix}:jobs", "workers")
        return int(info["pending"]) == 0

    try:
        await slack.wait_for(done, timeout=30, what="no pending stream entries")
    finally:
        await client.aclose()


# ---- PostgreSQL outage -------------------------------------------------------------------------


async def test_postgres_outage_mid_burst_loses_and_duplicates_nothing(
    private_pg: PrivatePostgres, scenario_env: dict[str, str], slack_sim: SlackSimulator,
    secret_values: dict[str, str], procs: Procs,
) -> None:
    private_pg.psql("CREATE DATABASE aiops")
    dsn = private_pg.dsn("aiops")
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    procs.env = scenario_env | {"DATABASE_URL": dsn}
    url = await start_receiver(procs)
    for _ in range(2):
        procs.spawn("worker", "--concurrency", "4", "--claim-idle-ms", "5000")
    burst = Burst(SlackEventSender(url=url + "slack/events",
                                   signing_secret=secret_values["slack_signing_secret"], sim=slack_sim))

    await burst.send(range(0, 60))
    # the workers are up and busy (a worker that cannot reach the database at start exits)
    await slack_sim.wait_for(lambda: sum(bool(answers(slack_sim, r)) for r in burst.roots.values()) >= 10,
                             timeout=120, what="10 answers before the outage")
    private_pg.stop(mode="fast")  # every open connection drops, new ones are refused
    outage_started = time.monotonic()
    await burst.send(range(60, EVENTS))  # the receiver keeps acking: it needs only Redis
    assert len(burst.acked()) == EVENTS, {i: r.status for i, r in burst.results.items() if r.status != 200}
    await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - outage_started)))  # the outage: 60 s
    shown_during_outage = [i for i, root in burst.roots.items() if answers(slack_sim, root)]
    delayed = [i for i, root in burst.roots.items() if notices(slack_sim, root)]
    private_pg.start()
    recovered = time.monotonic()
    restarted_at = await _db_now(dsn)
    await slack_sim.wait_for(
        lambda: sum(bool(answers(slack_sim, r)) for r in burst.roots.values()) > len(shown_during_outage),
        timeout=120, what="a first answer after the recovery",
    )
    first_s = time.monotonic() - recovered
    await wait_all_answered(slack_sim, burst, procs, timeout=300)
    recovery_s = time.monotonic() - recovered

    per_thread = {i: answers(slack_sim, root) for i, root in burst.roots.items()}
    duplicates = sum(len(a) - 1 for a in per_thread.values())
    assert duplicates == 0
    assert all(notices(slack_sim, root) <= 1 for root in burst.roots.values())  # posted once
    assert delayed, "no thread was told its answer is delayed"
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    assert pool is not None
    try:
        rows = await pool.fetch("SELECT id::text, user_message, timestamp FROM audit_events"
                                " WHERE event_type = 'query'")
        refusals = await pool.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'auth_failure'")
    finally:
        await pool.close()
    by_id = {r["id"]: r for r in rows}
    assert len(rows) == len(by_id) == EVENTS  # one audit row per question, no more
    for i, shown in per_thread.items():
        assert question(i) in visible(shown[0])  # the answer to this question, not a failure notice
        row = by_id[audit_ref(shown[0])]  # the answer's reference is its audit row
        assert row["user_message"] == question(i)
    for i in shown_during_outage:  # what Slack saw during the outage was audited before it began
        assert by_id[audit_ref(per_thread[i][0])]["timestamp"] < restarted_at
    assert refusals == 0  # nobody was refused as if unlinked
    assert "identity: unexpected" not in procs.text()
    await no_pending(slack_sim, scenario_env["REDIS_URL"], scenario_env["AIOPS_REDIS_PREFIX"])
    print(f"\npostgres outage: sent {len(burst.results)}, acked {len(burst.acked())}, "
          f"answered {sum(1 for a in per_thread.values() if a)}, duplicates {duplicates}, "
          f"audit rows {len(rows)}, delayed notices {len(delayed)}, shown during outage "
          f"{len(shown_during_outage)}; after recovery: first answer {first_s:.1f} s, all answered "
          f"{recovery_s:.1f} s")


async def _db_now(dsn: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT now()")
    finally:
        await conn.close()


# ---- Redis restart -----------------------------------------------------------------------------


async def test_redis_restart_mid_burst_loses_nothing_acknowledged(
    private_redis: PrivateRedis, scenario_env: dict[str, str], slack_sim: SlackSimulator,
    secret_values: dict[str, str], procs: Procs,
) -> None:
    procs.env = scenario_env | {"REDIS_URL": private_redis.url}
    url = await start_receiver(procs)
    procs.spawn("worker", "--concurrency", "8", "--claim-idle-ms", "5000")
    sender = SlackEventSender(url=url + "slack/events",
                              signing_secret=secret_values["slack_signing_secret"], sim=slack_sim)
    burst = Burst(sender)

    sending = asyncio.create_task(burst.send(range(EVENTS), parallel=4))
    await slack_sim.wait_for(lambda: len(burst.results) >= 60, timeout=120, what="60 acks")
    restart_began = time.monotonic()
    await asyncio.to_thread(private_redis.restart)  # SIGTERM (AOF flushed), start, port open
    back = time.monotonic()
    await sending
    acked_first_try = set(burst.acked())
    failed = sorted(set(burst.results) - acked_first_try)
    late_failures = [i for i in failed if burst.started[i] >= back + 1.0]
    assert late_failures == [], "the receiver still refused events a second after Redis was back"
    if back - restart_began < 1.0:  # a sub-second restart is ridden out by the client's retries
        assert failed == [], f"{len(failed)} events got an error while Redis restarted"

    for i in failed:  # Slack retries what was not acked (X-Slack-Retry-Num); the same event id
        envelope = burst.results[i].payload
        for attempt in range(1, 4):
            res = await sender.post(*json_body(envelope), retry_num=attempt)
            if res.status == 200:
                break
            await asyncio.sleep(1)
        assert res.status == 200

    await wait_all_answered(slack_sim, burst, procs, timeout=240)
    per_thread = {i: answers(slack_sim, root) for i, root in burst.roots.items()}
    duplicates = sum(len(a) - 1 for a in per_thread.values())
    assert duplicates == 0
    assert all(per_thread[i] for i in acked_first_try)  # nothing acknowledged was lost
    await no_pending(slack_sim, private_redis.url, scenario_env["AIOPS_REDIS_PREFIX"])
    slowest = max(burst.latency(i) for i in burst.results)
    print(f"\nredis restart: sent {len(burst.results)}, acked first try {len(acked_first_try)}, "
          f"refused during the restart {len(failed)} (all acked on Slack's retry), answered "
          f"{sum(1 for a in per_thread.values() if a)}, duplicates {duplicates}, "
          f"restart took {back - restart_began:.2f} s, slowest ack {slowest:.2f} s")
