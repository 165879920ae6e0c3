"""Replies only the asker sees, and answers that must not go where the bot cannot post.

- A slash command is answered through its `response_url` (ephemeral; it works in channels the
  bot never joined, 5 times within 30 minutes), then `chat.postEphemeral`, then a DM.
- A mention in a channel is answered ephemerally in its thread; if the bot cannot post there,
  in a DM. A DM is answered in its thread.
- A refusal about the channel itself carries a one-click "Ask me in a DM" button (a link that
  opens the bot's DM with the user — `conversations.open` gives its id).
- `/aiops <question>` in a channel the bot is not a member of: the root and the answer go to
  the user's DM, and the `response_url` says so (with the same button) — never silence.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app import messages
from app.jobs import Job, JobStateStore
from app.slack.neutralize import neutralize

log = logging.getLogger(__name__)

CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
"""chat.postMessage errors that mean "not here": answer privately instead."""
RESPONSE_URL_TIMEOUT_S = 10


def cannot_post(exc: SlackApiError) -> bool:
    return str(exc.response.get("error", "")) in CANNOT_POST


class PrivateReplies:
    def __init__(self, *, slack: AsyncWebClient) -> None:
        self._slack = slack

    async def open_dm(self, user_id: str) -> str:
        resp = await self._slack.conversations_open(users=user_id)
        return str(resp["channel"]["id"])

    async def dm_button(self, job: Job) -> list[dict[str, Any]]:
        """An "Ask me in a DM" button; no button if the DM cannot be opened (the text still says it)."""
        try:
            dm = await self.open_dm(job.user_id)
        except SlackApiError as exc:
            log.warning("could not open a DM with %s (%s)", job.user_id, exc.response.get("error"))
            return []
        return messages.dm_offer_blocks(dm, job.team_id)

    async def reply(self, job: Job, text: str, *, offer_dm: bool = False) -> None:
        """Tell only the asker. Raises only if every way failed (the job is then retried)."""
        in_dm = job.channel_id.startswith("D")
        if job.kind != "command" and in_dm:
            await self._slack.chat_postMessage(
                channel=job.channel_id, thread_ts=job.thread_ts or job.event_ts, text=text
            )
            return
        blocks = await self.dm_button(job) if offer_dm and not in_dm else []
        if job.response_url and await self.respond(job.response_url, text, blocks):
            return
        try:
            await self._slack.chat_postEphemeral(
                channel=job.channel_id,
                user=job.user_id,
                thread_ts=job.thread_ts or job.event_ts,
                text=text,
                blocks=_with_text(text, blocks),
            )
        except SlackApiError as exc:
            if not cannot_post(exc):
                raise
            await self._slack.chat_postMessage(channel=job.user_id, text=text)

    async def respond(self, url: str, text: str, blocks: list[dict[str, Any]]) -> bool:
        """POST an ephemeral reply to a response_url; False when it is used up or expired."""
        body: dict[str, Any] = {"response_type": "ephemeral", "text": text}
        if blocks:
            body["blocks"] = _with_text(text, blocks)
        try:
            timeout = aiohttp.ClientTimeout(total=RESPONSE_URL_TIMEOUT_S)
            async with aiohttp.ClientSession(timeout=timeout) as http, http.post(url, json=body) as resp:
                if resp.status == 200:
                    return True
                log.warning("response_url refused the reply (HTTP %s)", resp.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("response_url unreachable (%s)", type(exc).__name__)
        return False

    async def command_thread(self, job: Job, states: JobStateStore) -> str:
        """The root ts for a slash-command question: in its channel when the bot may post there,
        else in the user's DM (then `job.channel_id` becomes the DM, recorded as `reply_channel`
        for a reclaimed delivery) — and the user is told where the answer went."""
        root_text = messages.command_root(job.user_id, neutralize(job.text))  # the asker's own mention only
        try:
            resp = await self._slack.chat_postMessage(channel=job.channel_id, text=root_text)
            return str(resp["ts"])
        except SlackApiError as exc:
            if not cannot_post(exc):
                raise
        dm = await self.open_dm(job.user_id)
        resp = await self._slack.chat_postMessage(channel=dm, text=root_text)
        await states.update(job.job_id, reply_channel=dm)
        note = messages.ANSWER_IN_DM
        if not (
            job.response_url
            and await self.respond(job.response_url, note, messages.dm_offer_blocks(dm, job.team_id))
        ):
            log.info("could not tell %s that the answer goes to a DM", job.user_id)
        job.channel_id = dm
        return str(resp["ts"])


def _with_text(text: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """With blocks, Slack shows only the blocks: the text goes first as a section."""
    if not blocks:
        return []
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, *blocks]
