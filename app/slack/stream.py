"""Showing a growing answer in one Slack message, two ways behind one interface.

- `StreamWriter`: Slack's native AI streaming (`chat.startStream` / `appendStream` /
  `stopStream`), text appended in batches.
- `UpdateWriter`: the fallback where streaming is unavailable (method unknown, not allowed in
  that channel, no recipient, a reclaimed job whose stream died): the message is rewritten with
  `chat.update`, at most once per `min_interval_s` (Slack allows ~1 update/s per message).

Both only ever show the first `MAX_LIVE_CHARS` characters while streaming; the final,
split-at-limits rendering is `ThreadReply.finish`'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

MAX_LIVE_CHARS = 11_000


class StreamWriter:
    def __init__(self, *, client: AsyncWebClient, channel: str, ts: str, flush_chars: int = 120,
                 min_interval_s: float = 0.5) -> None:
        self._client = client
        self._channel = channel
        self.ts = ts
        self._flush_chars = flush_chars
        self._interval = min_interval_s
        self._buffer = ""
        self._sent = 0
        self._last = -math.inf
        self.active = True

    @classmethod
    async def start(cls, *, client: AsyncWebClient, channel: str, thread_ts: str, user_id: str,
                    team_id: str, **kw: Any) -> StreamWriter:
        """Raises SlackApiError when streaming is not possible here (caller falls back)."""
        resp = await client.chat_startStream(
            channel=channel, thread_ts=thread_ts, recipient_user_id=user_id, recipient_team_id=team_id
        )
        return cls(client=client, channel=channel, ts=str(resp["ts"]), **kw)

    async def append(self, markdown: str) -> None:
        room = MAX_LIVE_CHARS - self._sent - len(self._buffer)
        if room <= 0:
            return
        self._buffer += markdown[:room]
        due = time.monotonic() - self._last >= self._interval
        if len(self._buffer) >= self._flush_chars or (due and self._buffer.endswith(("\n", " ", "."))):
            await self._flush()

    async def _flush(self) -> None:
        if not self._buffer:
            return
        text, self._buffer = self._buffer, ""
        await self._client.chat_appendStream(channel=self._channel, ts=self.ts, markdown_text=text)
        self._sent += len(text)
        self._last = time.monotonic()

    async def stop(self) -> None:
        """End the stream (any buffered text is sent with it). Idempotent."""
        if not self.active:
            return
        self.active = False
        text, self._buffer = self._buffer, ""
        kwargs: dict[str, Any] = {"markdown_text": text} if text else {}
        await self._client.chat_stopStream(channel=self._channel, ts=self.ts, **kwargs)


class UpdateWriter:
    def __init__(self, *, client: AsyncWebClient, channel: str, ts: str, min_interval_s: float = 1.0,
                 prefix: str = "") -> None:
        self._client = client
        self._channel = channel
        self.ts = ts
        self._interval = min_interval_s
        self._text = prefix
        self._shown = ""
        self._last = -math.inf
        self._pending: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def text(self) -> str:
        return self._text

    async def append(self, markdown: str) -> None:
        self._text += markdown
        await self._schedule()

    async def show_status(self, status: str) -> None:
        """Before any answer text, the placeholder shows the current step."""
        if not self._text:
            await self._update(f"_{status}_")

    async def _schedule(self) -> None:
        wait = self._interval - (time.monotonic() - self._last)
        if wait <= 0:
            await self._update(self._text[:MAX_LIVE_CHARS])
        elif self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self._later(wait))

    async def _later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        # A throttled update failing must not take the job down; the final update retries.
        with contextlib.suppress(SlackApiError):
            await self._update(self._text[:MAX_LIVE_CHARS])

    async def _update(self, text: str) -> None:
        async with self._lock:
            if not text or text == self._shown:
                return
            await self._client.chat_update(channel=self._channel, ts=self.ts, text=text)
            self._shown = text
            self._last = time.monotonic()

    async def stop(self) -> None:
        """Cancel a pending throttled update (the final rendering replaces it)."""
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending
        self._pending = None
