"""Values blocked after a prompt-injection detection (threat model: "block the offending
metric label"), shared by every worker through Redis and expiring after a TTL.

One sorted set, `{prefix}:blocklist:live`, holds a digest of each blocked value scored by its
expiry (Redis server time, so workers' clocks do not matter): only a digest is stored, so a
blocked value that held a secret never lands in Redis. A tool call reads the live digests in one
round trip — empty almost always, a handful after a detection — and compares the result's
values with them locally, instead of asking Redis about every value of every result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache

import redis.asyncio as aioredis

DEFAULT_TTL_S = 3600

# KEYS[1] = the set; ARGV = ttl, digest… — entries expire by score, the key once all have.
_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]) + 1)
return 1
"""
_LIVE = """
local t = redis.call('TIME')
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (tonumber(t[1]) + tonumber(t[2]) / 1000000), '+inf')
"""


@lru_cache(maxsize=65_536)
def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class Blocklist:
    def __init__(self, *, redis: aioredis.Redis, prefix: str, ttl_s: int = DEFAULT_TTL_S) -> None:
        if ttl_s <= 0:
            raise ValueError("blocklist ttl_s must be positive")
        self._redis = redis
        self._key = f"{prefix}:blocklist:live"
        self.ttl_s = ttl_s
        self._block = redis.register_script(_BLOCK)
        self._live = redis.register_script(_LIVE)

    async def block(self, values: Iterable[str]) -> None:
        """Block `values` for `ttl_s` seconds (re-blocking refreshes the TTL)."""
        digests = sorted({_digest(v) for v in values})
        if digests:
            await self._block(keys=[self._key], args=[self.ttl_s, *digests])

    async def live(self) -> frozenset[str]:
        """Digests of the values blocked now: one round trip, usually answering nothing."""
        found = await self._live(keys=[self._key])
        return frozenset(d.decode() if isinstance(d, bytes) else str(d) for d in found)

    @staticmethod
    def matches(values: Iterable[str], live: frozenset[str]) -> set[str]:
        """The values among `values` that `live` (from `live()`) blocks."""
        return {v for v in set(values) if _digest(v) in live}

    async def blocked(self, values: Iterable[str]) -> set[str]:
        """The subset of `values` that is currently blocked."""
        return self.matches(values, await self.live())

    async def unblock(self, value: str) -> None:
        await self._redis.zrem(self._key, _digest(value))
