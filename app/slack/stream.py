"""Showing a growing answer in one Slack message, two ways behind one interface.

- `StreamWriter`: Slack's native AI streaming through slack-sdk's `chat_stream()` helper
  (`chat.startStream` / `appendStream` / `stopStream` with `markdown_text` chunks, buffered by
  the helper).
- `UpdateWriter`: the fallback where streaming is unavailable (method unknown, not allowed in
  that channel, no recipient, a reclaimed job whose stream died): the message is rewritten with
  `chat.update`, at most once per `min_interval_s` (Slack allows ~1 update/s per message).

Both neutralize what they show (app/slack/neutralize.py) and only ever show the first
`MAX_LIVE_CHARS` characters while streaming; the final, split-at-limits rendering is
`ThreadReply.finish`'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from app.slack.neutralize import StreamSafe, neutralize

MAX_LIVE_CHARS = 11_000
STREAM_BUFFER_CHARS = 120
"""Text the helper collects before one `chat.appendStream` (Slack rate-limits the calls)."""


class StreamWriter:
    def __init__(self, stream: AsyncChatStream, *, allowed_hosts: Iterable[str] = ()) -> None:
        self._stream = stream
        self._safe = StreamSafe(allowed_hosts)
        self._sent = 0
        self.active = True

    @property
    def ts(self) -> str:
        return str(self._stream.ts)

    @classmethod
    async def start(cls, *, client: AsyncWebClient, channel: str, thread_ts: str, user_id: str,
                    team_id: str, allowed_hosts: Iterable[str] = (),
                    buffer_size: int = STREAM_BUFFER_CHARS) -> StreamWriter:
        """Starts the stream now (the helper would wait for the first text): the message ts
        must be known before any answer text shows. Raises SlackApiError when streaming is not
        possible here (the caller falls back)."""
        stream = await client.chat_stream(
            channel=channel, thread_ts=thread_ts, recipient_user_id=user_id, recipient_team_id=team_id,
            buffer_size=buffer_size,
        )
        await stream.append(chunks=[])
        if not stream.ts:
            raise RuntimeError("chat.startStream returned no ts")
        return cls(stream, allowed_hosts=allowed_hosts)

    async def append(self, markdown: str) -> None:
        text = self._safe.feed(markdown)[: max(0, MAX_LIVE_CHARS - self._sent)]
        if text:
            self._sent += len(text)
            await self._stream.append(markdown_text=text)

    async def stop(self) -> None:
        """End the stream (any buffered text is sent with it). Idempotent."""
        if not self.active:
            return
        self.active = False
        tail = self._safe.flush()[: max(0, MAX_LIVE_CHARS - self._sent)]
        await self._stream.stop(markdown_text=tail or None)


class UpdateWriter:
    def __init__(self, *, client: AsyncWebClient, channel: str, ts: str, min_interval_s: float = 1.0,
                 prefix: str = "", allowed_hosts: Iterable[str] = ()) -> None:
        self._client = client
        self._allowed = frozenset(allowed_hosts)
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
            await self._update(self._live())
        elif self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self._later(wait))

    async def _later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        # A throttled update failing must not take the job down; the final update retries.
        with contextlib.suppress(SlackApiError):
            await self._update(self._live())

    def _live(self) -> str:
        """The whole text so far, neutralized as one (a piece boundary hides nothing)."""
        return neutralize(self._text, self._allowed)[:MAX_LIVE_CHARS]

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
