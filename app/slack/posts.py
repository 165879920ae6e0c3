"""Every message the worker posts besides the answer itself, neutralized on the way out.

Answers go through `ThreadReply` (reply.py), built here with the allowed link hosts; private replies
(app/private_reply.py) get `private_text()`; a message in an alert thread goes through
`post()`.
"""

from __future__ import annotations

from collections.abc import Collection

from slack_sdk.web.async_client import AsyncWebClient

from app.jobs import Job, JobStateStore
from app.slack.neutralize import neutralize
from app.slack.reply import ThreadReply, answer_tag, tagged_posts


class SlackPosts:
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        link_hosts: frozenset[str] = frozenset(),
        login_hosts: frozenset[str] = frozenset(),
        workspace_hosts: Collection[str] = (),
        prometheus_url: str | None = None,
    ) -> None:
        """`link_hosts`: the only hosts links may point to (Prometheus / Alertmanager external
        URLs). Private replies may also link to `login_hosts` (the identity provider's
        device-login page). `workspace_hosts`: our Slack workspace's host once learned (a live
        collection, app.slack.workspace): links to our own threads. `prometheus_url`: where the
        findings' query links point."""
        self._client = client
        self._link_hosts = link_hosts
        self._login_hosts = login_hosts
        self._workspace = workspace_hosts
        self._prometheus_url = prometheus_url

    @property
    def link_hosts(self) -> frozenset[str]:
        return self._link_hosts | frozenset(self._workspace)

    @property
    def _private_hosts(self) -> frozenset[str]:
        return self.link_hosts | self._login_hosts

    def neutralize(self, text: str) -> str:
        return neutralize(text, self.link_hosts)

    def reply(self, job: Job, state: JobStateStore, thread_ts: str) -> ThreadReply:
        return ThreadReply(
            client=self._client,
            job=job,
            state=state,
            thread_ts=thread_ts,
            allowed_hosts=self.link_hosts,
            prometheus_url=self._prometheus_url,
        )

    def private_text(self, text: str) -> str:
        """Text only the asker sees (our own replies, refusals, the device-login link)."""
        return neutralize(text, self._private_hosts)

    async def post(self, channel: str, text: str, thread_ts: str | None = None) -> str:
        """A (neutralized) message; its ts."""
        return await self._post(channel, neutralize(text, self.link_hosts), thread_ts)

    async def _post(self, channel: str, text: str, thread_ts: str | None) -> str:
        resp = await self._client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
        return str(resp["ts"])

    async def post_once(self, job: Job, text: str, thread_ts: str, *, part: str, maybe_posted: bool) -> str:
        """A message of `job` in a thread, posted once even when a worker died between Slack's
        reply and the job state recording it (`maybe_posted`): that message is found by its tag
        and rewritten, as `ThreadReply` does for answers."""
        text = neutralize(text, self.link_hosts)
        if maybe_posted:
            found = await tagged_posts(self._client, job.channel_id, thread_ts, job.job_id)
            if ts := found.get(part):
                await self._client.chat_update(channel=job.channel_id, ts=ts, text=text)
                return ts
        resp = await self._client.chat_postMessage(
            channel=job.channel_id, thread_ts=thread_ts, text=text, metadata=answer_tag(job.job_id, part)
        )
        return str(resp["ts"])
