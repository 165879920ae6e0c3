"""One answer in one Slack thread — streamed where Slack allows it, idempotent across crashes.

open():   start a native stream (chat.startStream) or, where streaming is unavailable, post a
          placeholder; the message ts goes into the job state *before* any answer text is shown,
          so a reclaimed job rewrites that message (chat.update) instead of posting again.
set_status(): `assistant.threads.setStatus` ("Querying Prometheus…"); in fallback mode the
          placeholder shows it too.
append(): streamed markdown (appendStream, or throttled chat.update).
finish(): stop the stream and rewrite the message with the final rendering (split at Slack's
          limits; evidence, feedback buttons and the audit ref on the last part), attach graphs.
fail():   the same message says what went wrong, with the audit ref — the answer is never lost.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.agent.base import AgentAnswer
from app.credentials import tell_user
from app.jobs import Job, JobStateStore
from app.slack import strings
from app.slack.render import SlackMessage, render_answer, render_failure
from app.slack.stream import StreamWriter, UpdateWriter

PLACEHOLDER = strings.PLACEHOLDER
ANSWER_EVENT = "aiops_answer_part"
MAX_THREAD_PAGES = 20
"""Pages of 200 replies read at most to find a job's earlier posts (a bound: 4,000 replies)."""
"""Slack message-metadata event type on every message of an answer (payload: job_id, part)."""
JSON = dict[str, Any]
log = logging.getLogger(__name__)


class ThreadReply:
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        job: Job,
        state: JobStateStore,
        thread_ts: str,
        streaming: bool = True,
        update_interval_s: float = 1.0,
        allowed_hosts: Iterable[str] = (),
        prometheus_url: str | None = None,
    ) -> None:
        """`allowed_hosts`: the only hosts links in the posted text may point to (the
        Prometheus / Alertmanager external URLs); everything posted is neutralized.
        `prometheus_url`: the Prometheus external URL the findings link their queries to."""
        self._client = client
        self._allowed = frozenset(allowed_hosts)
        self._prometheus_url = prometheus_url
        self._job = job
        self._state = state
        self.channel_id = job.channel_id
        self.thread_ts = thread_ts
        self.message_ts: str | None = None
        self._streaming_allowed = streaming
        self._interval = update_interval_s
        self._stream: StreamWriter | None = None
        self._updater: UpdateWriter | None = None
        self._status_ok = True
        self.reclaimed = False
        self._posted: dict[int, str] | None = None

    @property
    def mode(self) -> str:
        return "stream" if self._stream is not None else "update"

    async def open(self) -> None:
        st = await self._state.get(self._job.job_id)
        if st.message_ts:
            # A reclaimed job: its stream (if any) died with the old worker; rewrite the message.
            self.message_ts, self.reclaimed = st.message_ts, True
            self._updater = self._update_writer(st.message_ts)
            return
        await tell_user(client=self._client, job=self._job, thread_ts=self.thread_ts)  # credentials removed
        if self._streaming_allowed and self._job.team_id and self._job.user_id.startswith(("U", "W")):
            try:
                self._stream = await StreamWriter.start(
                    client=self._client,
                    channel=self.channel_id,
                    thread_ts=self.thread_ts,
                    user_id=self._job.user_id,
                    team_id=self._job.team_id,
                    allowed_hosts=self._allowed,
                )
                self.message_ts = self._stream.ts
            except SlackApiError as exc:
                log.info("streaming unavailable (%s); falling back to chat.update", _error_code(exc))
        if self.message_ts is None:
            if not st.opening:
                await self._state.update(self._job.job_id, opening=True)
            self.message_ts = await self._post_once(0, text=PLACEHOLDER, maybe_posted=st.opening)
            self._updater = self._update_writer(self.message_ts)
        await self._state.update(self._job.job_id, message_ts=self.message_ts, thread_ts=self.thread_ts)

    async def set_status(self, text: str) -> None:
        if self._status_ok:
            try:
                await self._client.assistant_threads_setStatus(
                    channel_id=self.channel_id, thread_ts=self.thread_ts, status=text
                )
            except SlackApiError as exc:
                # Not an assistant thread (e.g. a channel): don't try again for this job.
                self._status_ok = False
                log.debug("setStatus unavailable (%s)", _error_code(exc))
        if self._updater is not None:
            with contextlib.suppress(SlackApiError):
                await self._updater.show_status(text)

    async def append(self, markdown: str) -> None:
        if self._stream is not None:
            try:
                await self._stream.append(markdown)
                return
            except SlackApiError as exc:
                # The stream broke (expired, rate limited): carry on rewriting the same message.
                log.info("stream append failed (%s); switching to chat.update", _error_code(exc))
                await self._degrade()
        if self._updater is not None:
            with contextlib.suppress(SlackApiError):
                await self._updater.append(markdown)

    async def finish(self, answer: AgentAnswer, *, audit_id: UUID) -> None:
        messages = render_answer(
            answer, audit_id, allowed_hosts=self._allowed, prometheus_url=self._prometheus_url
        )
        await self._close_live()
        await self._show(messages[0])
        st = await self._state.get(self._job.job_id)
        parts = list(st.parts)
        for n, extra in enumerate(messages[1:], start=1):
            if n <= len(parts):  # a reclaimed job: that part is already in the thread
                await self._client.chat_update(
                    channel=self.channel_id, ts=parts[n - 1], text=extra.text, blocks=extra.blocks
                )
                continue
            parts.append(
                await self._post_once(n, text=extra.text, blocks=extra.blocks, maybe_posted=self.reclaimed)
            )
            await self._state.update(self._job.job_id, parts=parts)
        if answer.artifacts and not st.attached:
            await self._attach(answer)
            await self._state.update(self._job.job_id, attached=True)
        await self._clear_status()
        await self._state.update(self._job.job_id, answered=True)

    async def fail(self, message: str, *, audit_id: UUID) -> None:
        await self._close_live()
        await self._show(render_failure(message, audit_id, allowed_hosts=self._allowed))
        await self._clear_status()
        await self._state.update(self._job.job_id, answered=True)

    # --- internals ---------------------------------------------------------------------------
    async def _post_once(
        self, part: int, *, text: str, blocks: list[JSON] | None = None, maybe_posted: bool
    ) -> str:
        """Post part `part` of this job's answer (0 = the placeholder), tagged with message
        metadata. A worker can die between Slack's reply and the job state recording the ts;
        the job that reclaims it (`maybe_posted`) finds that message by its tag and rewrites it
        instead of posting it twice."""
        if maybe_posted and (ts := await self._find_posted(part)):
            await self._client.chat_update(channel=self.channel_id, ts=ts, text=text, blocks=blocks)
            return ts
        resp = await self._client.chat_postMessage(
            channel=self.channel_id,
            thread_ts=self.thread_ts,
            text=text,
            blocks=blocks,
            metadata=answer_tag(self._job.job_id, part),
        )
        return str(resp["ts"])

    async def _find_posted(self, part: int) -> str | None:
        if self._posted is None:  # read the thread once per delivery, not once per part
            self._posted = await self._read_posted()
        return self._posted.get(part)

    async def _read_posted(self) -> dict[int, str]:
        """part → ts of this job's tagged messages already in the thread."""
        found = await tagged_posts(self._client, self.channel_id, self.thread_ts, self._job.job_id)
        return {part: ts for part, ts in found.items() if isinstance(part, int)}

    async def _degrade(self) -> None:
        if self._stream is None:
            return
        ts = self._stream.ts
        with contextlib.suppress(SlackApiError):
            await self._stream.stop()
        self._stream = None
        self._updater = self._update_writer(ts)

    def _update_writer(self, ts: str) -> UpdateWriter:
        return UpdateWriter(
            client=self._client,
            channel=self.channel_id,
            ts=ts,
            min_interval_s=self._interval,
            allowed_hosts=self._allowed,
        )

    async def _close_live(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(SlackApiError):
                await self._stream.stop()
        if self._updater is not None:
            await self._updater.stop()

    async def _show(self, message: SlackMessage) -> None:
        try:
            await self._client.chat_update(
                channel=self.channel_id, ts=self._ts(), text=message.text, blocks=message.blocks
            )
        except SlackApiError as exc:
            if _error_code(exc) != "streaming_state_conflict":
                raise
            # A reclaimed job whose dead worker left the stream open: close it, then rewrite.
            await self._client.chat_stopStream(channel=self.channel_id, ts=self._ts())
            await self._client.chat_update(
                channel=self.channel_id, ts=self._ts(), text=message.text, blocks=message.blocks
            )

    async def _attach(self, answer: AgentAnswer) -> None:
        uploads = [{"content": a.content, "filename": a.filename, "title": a.title} for a in answer.artifacts]
        try:
            await self._client.files_upload_v2(
                channel=self.channel_id,
                thread_ts=self.thread_ts,
                file_uploads=uploads,
                initial_comment=strings.GRAPH_COMMENT,
            )
        except SlackApiError as exc:
            # A missing graph must not lose the answer that was already posted.
            log.warning("graph upload failed (%s)", _error_code(exc))

    async def _clear_status(self) -> None:
        if self._status_ok:
            with contextlib.suppress(SlackApiError):
                await self._client.assistant_threads_setStatus(
                    channel_id=self.channel_id, thread_ts=self.thread_ts, status=""
                )

    def _ts(self) -> str:
        if self.message_ts is None:
            raise RuntimeError("ThreadReply.open() must be called first")
        return self.message_ts


def _error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error", "unknown"))
    except AttributeError:
        return "unknown"


def answer_tag(job_id: str, part: int | str) -> JSON:
    """Message metadata naming the job and the part of its output a message is."""
    return {"event_type": ANSWER_EVENT, "event_payload": {"job_id": job_id, "part": part}}


async def tagged_posts(
    client: AsyncWebClient, channel: str, thread_ts: str, job_id: str
) -> dict[int | str, str]:
    """part → ts of the messages `job_id` already posted in the thread (found by their tag),
    over every page of the thread: an alert thread can run to hundreds of replies."""
    found: dict[int | str, str] = {}
    cursor = None
    for _ in range(MAX_THREAD_PAGES):
        try:
            resp = await client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=200, cursor=cursor
            )
        except SlackApiError as exc:
            log.info("cannot read the thread to find earlier posts (%s)", _error_code(exc))
            return found
        for m in resp.get("messages") or []:
            meta = m.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            part = payload.get("part")
            if (
                meta.get("event_type") == ANSWER_EVENT
                and payload.get("job_id") == job_id
                and isinstance(part, int | str)
            ):
                found.setdefault(part, str(m["ts"]))
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return found
