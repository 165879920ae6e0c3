"""Values blocked after a prompt-injection detection (threat model: "block the offending metric
label"), shared by every worker and expiring after a TTL.

They live in PostgreSQL, beside the audit log (table `blocked_values`, migration 015), as a digest
of each value with its expiry: a blocked value that held a secret never lands in a table. The
check a tool result needs costs no round trip of its own. Each worker keeps what it last learned
is blocked (`known()`) and matches results against it locally; the statement that then writes
the call's audit row writes it only if nothing outside that set is blocked at that moment
(`GatedAuditSink.write_unless_blocked`). When something is, nothing is written, the worker learns
the live set from the answer and cleans the result again. So a result is recorded, and released,
only if none of its values was blocked when the statement writing its audit row began (its
snapshot: a block that commits while that statement runs is ordered after the release), whichever
worker blocked it and however long the tool took (decision 74).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import asyncpg

DEFAULT_TTL_S = 3600

_BLOCK = """
INSERT INTO blocked_values (prefix, digest, expires_at)
SELECT $1, d, now() + make_interval(secs => $2) FROM unnest($3::text[]) AS d
ON CONFLICT (prefix, digest) DO UPDATE SET expires_at = EXCLUDED.expires_at
RETURNING digest, extract(epoch FROM expires_at)::float8 AS expires,
    extract(epoch FROM now())::float8 AS db_now
"""
_PURGE = "DELETE FROM blocked_values WHERE prefix = $1 AND expires_at <= now()"
LIVE_SQL = """
SELECT digest, extract(epoch FROM expires_at)::float8 AS expires,
    extract(epoch FROM now())::float8 AS db_now
FROM blocked_values WHERE prefix = $1 AND expires_at > now()
"""
"""The live set of one prefix, digest → expiry (epoch seconds, the database's clock), with the
database's time; the audit gate answers with the same columns."""
GRACE_S = 5.0
"""How long past its expiry the local view keeps a digest: a worker whose estimate of the
database's clock is slightly off withholds a little longer, never a little earlier."""


@lru_cache(maxsize=65_536)
def digest(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class Blocklist:
    def __init__(self, *, pool: asyncpg.Pool, prefix: str, ttl_s: int = DEFAULT_TTL_S) -> None:
        if ttl_s <= 0:
            raise ValueError("blocklist ttl_s must be positive")
        self._pool = pool
        self.prefix = prefix
        self.ttl_s = ttl_s
        self._known: dict[str, float] = {}
        self._offset = 0.0  # the database's clock minus ours, as of the last answer

    def known(self) -> frozenset[str]:
        """What this worker last learned is blocked, less what has expired since (no I/O).
        Expiry is judged by the database's clock (an offset learnt with each answer) plus a grace:
        a worker whose own clock runs ahead would otherwise drop digests the database still
        counts, and the gate would refuse every result until they lapsed there too."""
        now = time.time() + self._offset - GRACE_S
        if any(expires <= now for expires in self._known.values()):
            self._known = {d: e for d, e in self._known.items() if e > now}
        return frozenset(self._known)

    def learn(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Replace the local view with the live set: rows of `LIVE_SQL`'s columns."""
        rows = list(rows)
        self._known = {r["digest"]: r["expires"] for r in rows}
        if rows:
            self._offset = rows[0]["db_now"] - time.time()

    async def live(self) -> frozenset[str]:
        """Digests of the values blocked now (one round trip), and learn them."""
        self.learn(await self._pool.fetch(LIVE_SQL, self.prefix))
        return frozenset(self._known)

    async def block(self, values: Iterable[str]) -> None:
        """Block `values` for `ttl_s` seconds (re-blocking refreshes the TTL); expired entries
        of this prefix are purged in the same transaction."""
        digests = sorted({digest(v) for v in values})
        if not digests:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(_PURGE, self.prefix)
            rows = await conn.fetch(_BLOCK, self.prefix, float(self.ttl_s), digests)
        self._known.update({r["digest"]: r["expires"] for r in rows})
        self._offset = rows[0]["db_now"] - time.time()

    @staticmethod
    def matches(values: Iterable[str], live: frozenset[str]) -> set[str]:
        """The values among `values` that `live` blocks."""
        return {v for v in set(values) if digest(v) in live}

    async def blocked(self, values: Iterable[str]) -> set[str]:
        """The subset of `values` that is currently blocked."""
        return self.matches(values, await self.live())

    async def unblock(self, value: str) -> None:
        gone = digest(value)
        await self._pool.execute(
            "DELETE FROM blocked_values WHERE prefix = $1 AND digest = $2", self.prefix, gone
        )
        self._known.pop(gone, None)
