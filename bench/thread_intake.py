"""Cost of deciding thread follow-ups on the ack path (issue 11 item 6), against real Redis:
a message in a thread the bot is not part of (dropped inside the Lua call, nothing stored), a
follow-up in a marked thread (queued), a mention (queued + thread marked) — each one round trip —
against the baseline `JobQueue.enqueue` measured in the same run. Also: the hostile-JSON guard on
an ordinary event body and on a 100 k-level one.

    .venv/bin/python bench/thread_intake.py [--rounds 2000] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from app.jobs import Job
from app.queue import JobQueue
from app.thread_intake import ThreadIntake, mark_thread
from handlers.json_guard import too_deep


def job(n: int, *, thread_ts: str | None) -> Job:
    return Job(
        job_id=f"Ev{n}",
        kind="mention",
        channel_id="C0BENCH",
        user_id="U0B",
        text="why?",
        thread_ts=thread_ts,
        event_ts=f"{1_700_000_000 + n}.000100",
    )


async def timed(rounds: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    samples = []
    for n in range(rounds):
        t0 = time.perf_counter_ns()
        await call(n)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return samples


def line(name: str, samples: list[float], base: float) -> None:
    p50 = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[18]
    print(f"{name:<34} {p50:>8.1f} {p95:>8.1f}  {p50 / base:>5.2f}x")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    redis = aioredis.from_url(args.redis)
    prefix = f"bench-{secrets.token_hex(4)}"
    try:
        queue, intake = JobQueue(redis=redis, prefix=prefix), ThreadIntake(redis=redis, prefix=prefix)
        await mark_thread(redis, prefix, "C0BENCH", "1.0")
        r = args.rounds
        base = await timed(r, lambda n: queue.enqueue(job(n, thread_ts=None)))
        dropped = await timed(r, lambda n: intake.follow_up(job(r + n, thread_ts="9.9")))
        follow = await timed(r, lambda n: intake.follow_up(job(2 * r + n, thread_ts="1.0")))
        mention = await timed(r, lambda n: intake.mention(job(3 * r + n, thread_ts=None)))
        b = statistics.median(base)
        print(f"{'ack-path call (µs)':<34} {'p50':>8} {'p95':>8}  ratio to baseline")
        line("JobQueue.enqueue (baseline)", base, b)
        line("follow-up, unknown thread (drop)", dropped, b)
        line("follow-up, marked thread (queue)", follow, b)
        line("mention (queue + mark)", mention, b)
        body = json.dumps(
            {
                "type": "event_callback",
                "event": {
                    "type": "app_mention",
                    "text": "x" * 400,
                    "blocks": [{"elements": [{"elements": [{"text": "x"}]}]}],
                },
            }
        )
        hostile = "[" * 100_000 + "]" * 100_000
        for name, text in (("json guard, ordinary event", body), ("json guard, 100k levels", hostile)):
            t0 = time.perf_counter_ns()
            for _ in range(200):
                too_deep(text)
            print(f"{name:<34} {(time.perf_counter_ns() - t0) / 200_000:>8.1f} µs/body")
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:dedup:msg:C0BENCH:*")]
        print(f"dedup keys written: {len(keys)} (expected {2 * r}: the {r} drops wrote none)")
    finally:
        async for k in redis.scan_iter(match=f"{prefix}:*"):
            await redis.delete(k)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
