"""The tools kill switch (issue 12, item 5): while paused, the agent calls no tool and no model
and answers with a plain "paused by the platform team" message.

Two sources, either one pauses: the setting `AIOPS_TOOLS_PAUSED=true` (fixed for the process),
and a flag in Redis (`{prefix}:tools_paused`) set by an admin, which every worker re-reads at
most once a second and which stays until it is cleared. A Redis error counts as paused: the
switch is for emergencies, so it fails closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from redis.exceptions import RedisError

from kernel.metrics import Metrics

TTL_S = 1.0


class PauseSwitch(Protocol):
    async def paused(self) -> bool: ...


class RedisPauseSwitch:
    def __init__(
        self,
        *,
        redis: Any,
        prefix: str,
        setting: bool = False,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._key = f"{prefix}:tools_paused"
        self._setting = setting
        self._metrics = metrics
        self._clock = clock
        self._cached: tuple[float, bool] | None = None

    async def paused(self) -> bool:
        if self._setting:
            return self._report(True)
        now = self._clock()
        if self._cached is not None and now - self._cached[0] < TTL_S:
            return self._cached[1]
        try:
            flag = bool(await self._redis.exists(self._key))
        except (RedisError, OSError):
            flag = True
        self._cached = (now, flag)
        return self._report(flag)

    async def set(self, paused: bool) -> None:
        """An admin's `pause` / `resume` (audited by the caller)."""
        if paused:
            await self._redis.set(self._key, "1")
        else:
            await self._redis.delete(self._key)
        self._cached = None

    def _report(self, flag: bool) -> bool:
        if self._metrics is not None:
            self._metrics.tools_paused.set(1 if flag else 0)
        return flag
