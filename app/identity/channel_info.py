"""Is a channel shared with another organisation (Slack Connect)? From `conversations.info`
(`is_ext_shared`), cached in-process for `ttl_s` — a channel is rarely shared or unshared, and
a refusal on a stale "shared" is the safe direction. An error from Slack counts as shared
(fail closed): the user is told to ask in a DM.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 600.0
MAX_ENTRIES = 10_000


class SharedChannels:
    def __init__(
        self,
        *,
        slack: AsyncWebClient,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slack = slack
        self._ttl = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[bool, float]] = {}

    async def is_external(self, channel_id: str) -> bool:
        now = self._clock()
        hit = self._cache.get(channel_id)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            resp = await self._slack.conversations_info(channel=channel_id)
            info = resp.get("channel") or {}
            shared = bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared"))
        except (SlackApiError, OSError, TimeoutError) as exc:
            log.warning(
                "conversations.info failed for %s (%s): treated as shared", channel_id, type(exc).__name__
            )
            return True  # not cached: the next question asks Slack again
        if len(self._cache) >= MAX_ENTRIES:
            self._cache.clear()
        self._cache[channel_id] = (shared, now + self._ttl)
        return shared
