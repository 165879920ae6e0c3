"""One answer in one Slack thread — idempotent across worker crashes.

The placeholder message's ts is recorded in the job state before anything else is shown,
so a reclaimed job updates that message instead of posting a second answer.
(Minimal version; the agent issue adds streaming, splitting at Slack limits, graphs and
feedback buttons behind the same methods.)
"""

from __future__ import annotations

from uuid import UUID

from slack_sdk.web.async_client import AsyncWebClient

from app.agent.base import AgentAnswer
from app.jobs import Job, JobStateStore

PLACEHOLDER = "_Looking into it…_"


class ThreadReply:
    def __init__(self, *, client: AsyncWebClient, job: Job, state: JobStateStore, thread_ts: str) -> None:
        self._client = client
        self._job = job
        self._state = state
        self.channel_id = job.channel_id
        self.thread_ts = thread_ts
        self.message_ts: str | None = None
        self._buffer: list[str] = []

    async def open(self) -> None:
        st = await self._state.get(self._job.job_id)
        if st.message_ts:
            self.message_ts = st.message_ts
            return
        resp = await self._client.chat_postMessage(
            channel=self.channel_id, thread_ts=self.thread_ts, text=PLACEHOLDER
        )
        self.message_ts = str(resp["ts"])
        await self._state.update(self._job.job_id, message_ts=self.message_ts, thread_ts=self.thread_ts)

    async def set_status(self, text: str) -> None:
        await self._client.chat_update(channel=self.channel_id, ts=self._ts(), text=f"_{text}_")

    async def append(self, markdown: str) -> None:
        self._buffer.append(markdown)

    async def finish(self, answer: AgentAnswer, *, audit_id: UUID) -> None:
        text = f"{answer.text}\n\n_audit ref: `{audit_id}`_"
        await self._client.chat_update(channel=self.channel_id, ts=self._ts(), text=text)
        await self._state.update(self._job.job_id, answered=True)

    async def fail(self, message: str, *, audit_id: UUID) -> None:
        await self._client.chat_update(
            channel=self.channel_id, ts=self._ts(), text=f"{message}\n\n_audit ref: `{audit_id}`_"
        )
        await self._state.update(self._job.job_id, answered=True)

    def _ts(self) -> str:
        if self.message_ts is None:
            raise RuntimeError("ThreadReply.open() must be called first")
        return self.message_ts
