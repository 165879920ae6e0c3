"""Bad input and abuse: bodies over a size limit, JSON nested too deep or not an object, and more
requests per user and minute than allowed all get a clear problem — never a 500."""

from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from handlers.api.problems import Problem, bad_request

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32


async def json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if _depth_exceeds(raw, MAX_JSON_DEPTH):
        raise bad_request(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        raise bad_request("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    return body


def _depth_exceeds(raw: bytes, limit: int) -> bool:
    """A cheap scan before parsing: brackets outside strings (json.loads would recurse)."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


class RateLimiter:
    """A fixed one-minute window per user and bucket, in Redis (shared by every API replica)."""

    def __init__(self, *, redis: aioredis.Redis, prefix: str, per_minute: dict[str, int]) -> None:
        self._redis = redis
        self._prefix = prefix
        self._limits = per_minute

    async def check(self, user: str, bucket: str) -> None:
        limit = self._limits[bucket]
        window = int(time.time() // 60)
        key = f"{self._prefix}:api:rate:{bucket}:{user}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = await pipe.execute()
        if int(count) > limit:
            retry = str(60 - int(time.time()) % 60)
            raise Problem(
                429,
                "Too Many Requests",
                f"More than {limit} {bucket} requests in a minute; retry in {retry} s.",
                headers={"Retry-After": retry},
            )
