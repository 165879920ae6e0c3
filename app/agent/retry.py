"""Calls to the model provider with backoff + jitter, honouring `retry-after`, inside a deadline.

The SDK's own retries are switched off (`max_retries=0` on the client we use) so that this is
the only retry policy and it can never outlive the job's deadline. When it gives up it raises
`ModelUnavailable`, which the agent turns into the offline answer.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anthropic

from app.agent.model import ProviderConnectionError, ProviderStatusError

T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
RETRY_ERROR_TYPES = frozenset({"overloaded_error", "rate_limit_error", "api_error", "timeout_error"})
"""Error types that can also arrive as an SSE `error` event in a 200 stream."""


def _retryable(exc: anthropic.APIStatusError) -> bool:
    if exc.status_code in RETRY_STATUSES:
        return True
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    return isinstance(error, dict) and error.get("type") in RETRY_ERROR_TYPES


class ModelUnavailable(Exception):
    """The model could not be reached within the job's budget. `str()` is safe to show users."""


class Deadline:
    """A monotonic deadline for one job."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


def _retry_after(exc: anthropic.APIStatusError) -> float | None:
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) * scale)
            except ValueError:
                continue
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, anthropic.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        kind = body.get("error", {}).get("type") if isinstance(body.get("error"), dict) else None
        return f"HTTP {exc.status_code}" + (f" {kind}" if kind and exc.status_code == 200 else "")
    if isinstance(exc, anthropic.APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, anthropic.APIConnectionError | ProviderConnectionError):
        return "connection failed"
    return type(exc).__name__


def backoff_delay(
    attempt: int, retry_after: float | None, *, base_s: float, cap_s: float, rng: random.Random
) -> float:
    """Full-jitter exponential backoff, never shorter than the server's `retry-after`."""
    backoff = rng.uniform(0, min(cap_s, base_s * 2**attempt))
    return max(backoff, retry_after) if retry_after is not None else backoff


async def call_with_retry(
    fn: Callable[[], Awaitable[T]],
    *,
    deadline: Deadline,
    attempt_timeout_s: float = 60.0,
    max_attempts: int = 6,
    base_s: float = 0.5,
    cap_s: float = 8.0,
    on_error: Callable[[str], None] | None = None,
    rng: random.Random | None = None,
) -> T:
    """Run `fn` until it succeeds, a non-retryable error, `max_attempts`, or the deadline."""
    rand = rng or random.Random()
    last = "no attempt"
    for attempt in range(max_attempts):
        remaining = deadline.remaining()
        if remaining <= 0:
            break
        try:
            async with asyncio.timeout(min(attempt_timeout_s, remaining)):
                return await fn()
        except anthropic.APIStatusError as exc:
            last = _describe(exc)
            if on_error:
                on_error(str(exc.status_code))
            if not _retryable(exc):
                raise ModelUnavailable(last) from exc
            wait = _retry_after(exc)
        except ProviderStatusError as exc:  # another provider's HTTP error, same policy
            last = str(exc)
            if on_error:
                on_error(str(exc.status_code))
            if exc.status_code not in RETRY_STATUSES:
                raise ModelUnavailable(last) from exc
            wait = exc.retry_after
        except (anthropic.APIConnectionError, ProviderConnectionError, TimeoutError) as exc:
            # anthropic.APITimeoutError is a subclass of APIConnectionError
            last = _describe(exc)
            if on_error:
                on_error("timeout" if "timeout" in last else "connection")
            wait = None
        if attempt == max_attempts - 1:
            break
        delay = backoff_delay(attempt, wait, base_s=base_s, cap_s=cap_s, rng=rand)
        if delay >= deadline.remaining():
            break
        await asyncio.sleep(delay)
    raise ModelUnavailable(last)
