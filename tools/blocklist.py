"""Values blocked after a prompt-injection detection (threat model: "block the offending
metric label"), shared by every worker through Redis and expiring after a TTL.

Keys are `{prefix}:blocklist:{digest}` with `SET … EX ttl`, one per value: only a digest
of the value is stored, so a blocked value that held a secret never lands in Redis.
A lookup is one `GET` of a marker key per tool call — the marker `{prefix}:blocklist:any`
is refreshed with the same TTL on every block, so while it is absent nothing is blocked and
the router skips hashing the result; otherwise one `MGET` of the result's values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import redis.asyncio as aioredis

DEFAULT_TTL_S = 3600
_MGET_CHUNK = 1000


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class Blocklist:
    def __init__(self, *, redis: aioredis.Redis, prefix: str, ttl_s: int = DEFAULT_TTL_S) -> None:
        if ttl_s <= 0:
            raise ValueError("blocklist ttl_s must be positive")
        self._redis = redis
        self._prefix = f"{prefix}:blocklist:"
        self._any = f"{prefix}:blocklist:any"
        self.ttl_s = ttl_s

    def _key(self, value: str) -> str:
        return self._prefix + _digest(value)

    async def block(self, values: Iterable[str]) -> None:
        """Block `values` for `ttl_s` seconds (re-blocking refreshes the TTL)."""
        keys = {self._key(v) for v in values}
        if not keys:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, b"1", ex=self.ttl_s)
            # Same TTL, set last: the marker outlives every entry, so "no marker" = "none blocked".
            pipe.set(self._any, b"1", ex=self.ttl_s)
            await pipe.execute()

    async def active(self) -> bool:
        """Is anything blocked at all? (Cheap pre-check before hashing a whole result.)"""
        return bool(await self._redis.exists(self._any))

    async def blocked(self, values: Sequence[str]) -> set[str]:
        """The subset of `values` that is currently blocked."""
        unique = list(dict.fromkeys(values))
        hits: set[str] = set()
        for start in range(0, len(unique), _MGET_CHUNK):
            chunk = unique[start : start + _MGET_CHUNK]
            found = await self._redis.mget([self._key(v) for v in chunk])
            hits.update(v for v, f in zip(chunk, found, strict=True) if f is not None)
        return hits

    async def unblock(self, value: str) -> None:
        await self._redis.delete(self._key(value))
