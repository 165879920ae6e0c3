"""Per-user daily token budget in Redis (one counter per user per UTC day).

Checked before an investigation starts and charged after it ends: a user who crosses the
limit mid-investigation still gets that answer, the next one is refused politely.
"""

from __future__ import annotations

import time
from typing import Any

_TTL_S = 2 * 86_400


class DailyTokenBudget:
    def __init__(self, *, redis: Any, prefix: str, limit: int) -> None:
        """`limit` 0 disables the budget. `redis` is a `redis.asyncio.Redis`."""
        self._redis = redis
        self._prefix = prefix
        self.limit = limit

    def _key(self, user_id: str, now: float | None = None) -> str:
        day = time.strftime("%Y%m%d", time.gmtime(time.time() if now is None else now))
        return f"{self._prefix}:tokens:{day}:{user_id}"

    async def used(self, user_id: str) -> int:
        raw = await self._redis.get(self._key(user_id))
        return int(raw or 0)

    async def exceeded(self, user_id: str) -> bool:
        if self.limit <= 0:
            return False
        return await self.used(user_id) >= self.limit

    async def charge(self, user_id: str, tokens: int) -> int:
        if tokens <= 0:
            return await self.used(user_id)
        key = self._key(user_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, tokens)
            pipe.expire(key, _TTL_S)
            total, _ = await pipe.execute()
        return int(total)
