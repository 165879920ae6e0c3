"""Every message the worker posts besides the answer itself, neutralized on the way out.

Answers go through `ThreadReply` (reply.py); the rest — ephemeral and private replies, the root of a
slash-command or digest thread, a message in an alert thread — goes through `SlackPosts`, so no
posting path skips `neutralize()`.
"""

from __future__ import annotations

import re

from slack_sdk.web.async_client import AsyncWebClient

from app import messages
from app.jobs import Job, JobStateStore
from app.slack.neutralize import neutralize
from app.slack.reply import ThreadReply

_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,30}$")


class SlackPosts:
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        link_hosts: frozenset[str] = frozenset(),
        login_hosts: frozenset[str] = frozenset(),
    ) -> None:
        """`link_hosts`: the only hosts links may point to (Prometheus / Alertmanager external
        URLs). Private replies may also link to `login_hosts` (the identity provider's
        device-login page)."""
        self._client = client
        self.link_hosts = link_hosts
        self._private_hosts = link_hosts | login_hosts

    def neutralize(self, text: str) -> str:
        return neutralize(text, self.link_hosts)

    def reply(self, job: Job, state: JobStateStore, thread_ts: str) -> ThreadReply:
        return ThreadReply(
            client=self._client, job=job, state=state, thread_ts=thread_ts, allowed_hosts=self.link_hosts
        )

    async def private(self, job: Job, text: str) -> None:
        """Slash commands are answered ephemerally; mentions and DMs in their thread."""
        text = neutralize(text, self._private_hosts)
        if job.kind == "command":
            await self._client.chat_postEphemeral(channel=job.channel_id, user=job.user_id, text=text)
        else:
            await self._client.chat_postMessage(
                channel=job.channel_id, thread_ts=job.thread_ts or job.event_ts, text=text
            )

    async def post(self, channel: str, text: str, *, thread_ts: str | None = None) -> str:
        """A (neutralized) message; its ts."""
        return await self._post(channel, neutralize(text, self.link_hosts), thread_ts)

    async def command_root(self, channel: str, user_id: str, question: str) -> str:
        """The root of a slash-command thread: mentions the asker (our own mention, from Slack's
        signed payload), then the question, neutralized."""
        if not _USER_ID.match(user_id):
            return await self.post(channel, messages.command_root(user_id, question))
        return await self._post(channel, messages.command_root(user_id, self.neutralize(question)), None)

    async def _post(self, channel: str, text: str, thread_ts: str | None) -> str:
        resp = await self._client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
        return str(resp["ts"])
