"""What operators scrape: build info, Slack API errors and 429s, queue lag and the age of the
oldest unacknowledged job. (Structured job logs: app.logctx.)

- Slack: `MeteredWebClient` counts ok=false answers and transport failures per method;
  `RateLimitCounter` sits first among the client's retry handlers and counts every 429 (the
  stock handler after it still does the Retry-After wait).
- Queue: `sample_queue()` reads the stream once (XLEN, XPENDING summary). Entries are XDEL'd
  when acknowledged, so lag = length - pending; the oldest pending entry's id is its enqueue
  time in ms. `QueueSampler` refreshes the gauges every few seconds in every process that
  serves /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from app.queue import GROUP
from kernel.metrics import Metrics

log = logging.getLogger(__name__)


def set_build_info(metrics: Metrics, *, git_sha: str) -> None:
    try:
        ours = version("aiops")
    except PackageNotFoundError:  # running from a source tree
        ours = "unknown"
    metrics.build_info.labels(version=ours, git_sha=git_sha).set(1)


def _method(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] or "unknown"


class RateLimitCounter(AsyncRetryHandler):
    """Never retries itself: counts each 429 and lets the next handler decide."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=1_000_000)
        self._metrics = metrics

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self._metrics.slack_rate_limited.labels(_method(request.url)).inc()
        return False


class MeteredWebClient(AsyncWebClient):
    """AsyncWebClient that counts failed calls by method and Slack's error code."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metered = metrics

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown")) if exc.response is not None else "unknown"
            self._metered.slack_api_errors.labels(api_method, error[:64]).inc()
            raise
        except Exception as exc:  # transport: connection refused, timeout…
            self._metered.slack_api_errors.labels(api_method, type(exc).__name__).inc()
            raise


async def sample_queue(redis: aioredis.Redis, prefix: str, metrics: Metrics) -> None:
    stream = f"{prefix}:jobs"
    async with redis.pipeline(transaction=False) as pipe:
        pipe.xlen(stream)
        pipe.xpending(stream, GROUP)
        length, pending = await pipe.execute(raise_on_error=False)
    if isinstance(length, Exception):
        raise length
    if isinstance(pending, ResponseError):  # no consumer group yet: nothing delivered
        pending = {"pending": 0, "min": None}
    elif isinstance(pending, Exception):
        raise pending
    count = int(pending.get("pending") or 0)
    metrics.queue_depth.set(count)
    metrics.queue_lag.set(max(0, int(length) - count))
    oldest = pending.get("min")
    if count and oldest:
        raw = oldest.decode() if isinstance(oldest, bytes) else str(oldest)
        enqueued_ms = int(raw.split("-", 1)[0])
        metrics.queue_oldest_pending_age.set(max(0.0, time.time() - enqueued_ms / 1000))
    else:
        metrics.queue_oldest_pending_age.set(0)


class QueueSampler:
    def __init__(self, *, redis: aioredis.Redis, prefix: str, metrics: Metrics, interval_s: float = 5.0):
        self._redis, self._prefix, self._metrics, self._interval = redis, prefix, metrics, interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await sample_queue(self._redis, self._prefix, self._metrics)
            except (RedisError, OSError) as exc:  # Redis down: the gauges keep their last value
                log.debug("queue sample failed (%s)", type(exc).__name__)
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
