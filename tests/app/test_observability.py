"""What operators scrape and read: Slack API errors and 429s counted, queue lag and oldest
pending age from the real stream, job ids on every log line of a job, JSON log lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time

import redis.asyncio as aioredis
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from app.jobs import Job
from app.logctx import JobContextFilter, JsonFormatter, delivery_context, job_context
from app.observability import MeteredWebClient, RateLimitCounter, sample_queue, set_build_info
from app.queue import Delivery, JobQueue
from kernel.metrics import Metrics
from sim.slack import SlackSimulator


def _value(metrics: Metrics, name: str, **labels: str) -> float:
    got = metrics.registry.get_sample_value(name, labels)
    return 0.0 if got is None else got


async def test_slack_429s_and_errors_are_counted() -> None:
    metrics = Metrics()
    async with SlackSimulator() as sim:
        client = MeteredWebClient(
            metrics=metrics, token=sim.bot_token, base_url=sim.base_url,
            retry_handlers=[RateLimitCounter(metrics), AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
        )
        sim.fail_next("chat.postMessage", status=429, retry_after=0, times=2)
        sim.add_channel("C1", "incidents")
        await client.chat_postMessage(channel="C1", text="hi")  # retried twice, then ok
        sim.fail_next("chat.postMessage", status=200, error="channel_not_found")
        try:
            await client.chat_postMessage(channel="C404", text="hi")
        except SlackApiError:
            pass
        else:
            raise AssertionError("expected channel_not_found")
    assert _value(metrics, "aiops_slack_rate_limited_total", method="chat.postMessage") == 2
    assert _value(metrics, "aiops_slack_api_errors_total", method="chat.postMessage",
                  error="channel_not_found") == 1


async def test_queue_lag_and_oldest_pending_age(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    metrics = Metrics()
    queue = JobQueue(redis=redis_client, prefix=redis_prefix)
    await sample_queue(redis_client, redis_prefix, metrics)  # no stream yet: all zero
    assert _value(metrics, "aiops_queue_lag") == 0
    for i in range(3):
        await queue.enqueue(Job(job_id=f"j{i}", kind="mention", channel_id="C", user_id="U", text="q"))
    await queue.ensure_group()
    # make the first entry look 90 s old: its id is its enqueue time
    old_id = f"{int(time.time() * 1000) - 90_000}-0"
    await redis_client.delete(f"{redis_prefix}:jobs")
    await redis_client.xgroup_create(f"{redis_prefix}:jobs", "workers", id="0", mkstream=True)
    await redis_client.xadd(f"{redis_prefix}:jobs", {"job": "{}"}, id=old_id)
    for _ in range(2):
        await redis_client.xadd(f"{redis_prefix}:jobs", {"job": "{}"})
    await sample_queue(redis_client, redis_prefix, metrics)
    assert _value(metrics, "aiops_queue_lag") == 3  # nothing delivered yet
    assert _value(metrics, "aiops_queue_oldest_pending_age_seconds") == 0
    await queue.read("w1", count=1, block_ms=10)  # the old one is now with a worker
    await sample_queue(redis_client, redis_prefix, metrics)
    assert _value(metrics, "aiops_queue_lag") == 2
    assert _value(metrics, "aiops_queue_pending") == 1
    assert 85 <= _value(metrics, "aiops_queue_oldest_pending_age_seconds") < 600


def test_build_info_names_the_git_sha() -> None:
    metrics = Metrics()
    set_build_info(metrics, git_sha="0123abc")
    text = metrics.render().decode()
    assert 'aiops_build_info{git_sha="0123abc",version="' in text
    assert 'le="300.0"' in text  # job and LLM latency buckets reach 300 s


async def test_every_line_of_a_job_carries_its_ids_even_from_tasks_it_starts() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(JobContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("aiops.test.logctx")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    job = Job(job_id="Ev42", kind="mention", channel_id="C1", user_id="U7", text="q")
    try:
        async def child() -> None:
            await asyncio.sleep(0)
            logger.info("tool call from a child task")

        with delivery_context(Delivery("1-0", job)):
            logger.info("job started")
            await asyncio.create_task(child())
        logger.info("between jobs")
        with job_context(job_id="Ev43", audit_id=None, user_id="U8"):
            logger.warning("second job")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(x["message"], x.get("job_id"), x.get("user_id")) for x in lines] == [
        ("job started", "Ev42", "U7"),
        ("tool call from a child task", "Ev42", "U7"),
        ("between jobs", None, None),
        ("second job", "Ev43", "U8"),
    ]
    assert lines[0]["audit_id"] == str(job.audit_id) and lines[0]["level"] == "INFO"
