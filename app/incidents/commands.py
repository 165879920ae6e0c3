"""`/aiops catchup` and `/aiops postmortem`: private answers about one incident thread.

Which thread (a slash command carries no thread):
- `@aiops catchup` / `@aiops postmortem` typed in the thread itself → that thread (the mention
  becomes this private command: `as_thread_command`; the reply is ephemeral in the thread);
- `/aiops catchup <link to the thread>` → that thread, if it is in the channel the command was typed
  in (a link never opens another channel's thread);
- `/aiops catchup` alone → the most recently active thread the bot took part in, in this channel.

The reader's scope is computed for that thread as for a question asked there (an alert thread holds
everyone to the alert's namespaces), and only turns inside it are used: nothing out of the reader's
scope reaches a catch-up or a postmortem. Every use is a `query` audit row.
"""

from __future__ import annotations

import dataclasses
import re

import asyncpg
from slack_sdk.web.async_client import AsyncWebClient

from app.commands import ChannelIdentity, scope_or_refusal
from app.incidents.render import IncidentMeta, catchup_text, postmortem_markdown
from app.incidents.resolve import Names, permalink
from app.incidents.summary import digest
from app.incidents.thread import evidence_digest, session_id, thread_turns
from app.jobs import Job
from app.slack.workspace import SlackWorkspace
from kernel.audit import AuditEvent, AuditSink
from kernel.scope import EffectiveScope

CATCHUP, POSTMORTEM = "catchup", "postmortem"
COMMANDS = frozenset({CATCHUP, POSTMORTEM})
NO_THREAD = (
    "I found no thread I took part in here. Type `@aiops {cmd}` in the incident's thread, or "
    "`/aiops {cmd} <link to the thread>`."
)
OTHER_CHANNEL = "That link points to another channel: run the command in the thread's own channel."
_LINK = re.compile(r"/archives/([A-Z0-9]+)/p(\d{10})(\d{6})(?:\?[^\s>|]*?thread_ts=(\d+\.\d+))?")
_THREAD_WORD = re.compile(r"^\s*(catchup|catch-up|catch up|postmortem|post-mortem)\s*$", re.I)


def as_thread_command(job: Job) -> Job:
    """A mention or thread message that says only "catchup"/"postmortem" becomes the private
    command of that name (answered ephemerally in its thread, never as a public answer)."""
    if job.kind not in ("mention", "dm") or not (m := _THREAD_WORD.match(job.text or "")):
        return job
    word = m.group(1).lower().replace("-", "").replace(" ", "")
    return dataclasses.replace(job, kind="command", command=word, thread_ts=job.thread_ts or job.event_ts)


class IncidentCommands:
    def __init__(
        self,
        *,
        identity: ChannelIdentity,
        pool: asyncpg.Pool,
        slack: AsyncWebClient,
        audit: AuditSink,
        workspace: SlackWorkspace | None = None,
    ) -> None:
        self._identity = identity
        self._pool = pool
        self._slack = slack
        self._audit = audit
        self._workspace = workspace
        self._names = Names(slack)

    async def __call__(self, job: Job) -> str:
        command = str(job.command or CATCHUP)
        where = await self._thread(job)
        if isinstance(where, str):
            return where.format(cmd=command)
        channel, ts = where
        in_thread = dataclasses.replace(job, channel_id=channel, thread_ts=ts)
        scope = await scope_or_refusal(self._identity, in_thread)
        if isinstance(scope, str):
            return scope
        turns = await thread_turns(self._pool, channel, ts, reader=scope)
        names = await self._names.of({t.slack_user_id for t in turns if t.slack_user_id})
        d = digest(turns, names)
        meta = await self._meta(channel, ts, scope)
        await self._record(job, scope, command, channel, ts)
        if command == CATCHUP or not turns:  # no turns: the same "nothing you may see" answer
            return catchup_text(d, meta)
        if meta is None:
            first = turns[0].at
            link = await permalink(self._slack, channel, ts)
            meta = IncidentMeta("this thread", (), link, first, None)
        markdown = postmortem_markdown(d, meta, await evidence_digest(self._pool, turns))
        return "Postmortem (Markdown, for the team's post-mortem document):\n```\n" + markdown + "```"

    async def _thread(self, job: Job) -> tuple[str, str] | str:
        if job.thread_ts:
            return job.channel_id, str(job.thread_ts)
        if m := _LINK.search(job.text or ""):
            channel, ts = m.group(1), m.group(4) or f"{m.group(2)}.{m.group(3)}"
            return (channel, ts) if channel == job.channel_id else OTHER_CHANNEL
        latest = await self._pool.fetchval(
            "SELECT session_id FROM conversations WHERE session_id LIKE $1 ORDER BY id DESC LIMIT 1",
            job.channel_id.replace("%", "").replace("_", r"\_") + ":%",
        )
        if not latest:
            return NO_THREAD
        channel, _, ts = str(latest).partition(":")
        return channel, ts

    async def _meta(self, channel: str, ts: str, scope: EffectiveScope) -> IncidentMeta | None:
        """The resolved incident's facts, its namespaces narrowed to the reader's."""
        row = await self._pool.fetchrow(
            "SELECT * FROM incidents WHERE channel_id = $1 AND thread_ts = $2", channel, ts
        )
        if row is None:
            return None
        if self._workspace is not None:
            await self._workspace.learn()
        return IncidentMeta(
            alertname=row["alertname"],
            namespaces=tuple(n for n in row["namespaces"] if scope.allows(n)),
            link=row["link"],
            fired_at=row["fired_at"],
            resolved_at=row["resolved_at"],
        )

    async def _record(self, job: Job, scope: EffectiveScope, command: str, channel: str, ts: str) -> None:
        await self._audit.write(
            AuditEvent(
                event_type="query",
                user_id=scope.user_id,
                session_id=session_id(channel, ts),
                user_message=f"/aiops {command}",
                ip_address=job.ip_address,
            )
        )
