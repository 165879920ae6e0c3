"""An alert group resolves: the root is rewritten, the thread says so, and — once per thread — the
postmortem is posted there, stored (PostgreSQL, 90 days) and the incident remembered in Qdrant for
the next similar alert.

Idempotent per job like everything the worker does: the job state records the resolve reply and the
postmortem as posted, so a redelivered job neither posts twice nor loses the postmortem. The
postmortem and the memory are best effort on top of the resolve itself: a failure there is logged,
never a reason to leave the resolve unanswered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app import messages
from app.alert_threads import AlertThreads
from app.identity.service import alert_namespaces
from app.incidents.memory import IncidentMemory, IncidentRecord, point_id, redact
from app.incidents.render import IncidentMeta, for_slack, postmortem_markdown
from app.incidents.summary import FindingsSource, answer_findings, digest
from app.incidents.thread import evidence_digest, session_id, thread_turns
from app.job_audit import query_event, write_once
from app.jobs import Job
from app.queue import RedisJobStateStore
from app.slack.posts import SlackPosts
from app.slack.workspace import SlackWorkspace
from kernel.audit import AuditSink, sha256_hex
from kernel.errors import BackendError
from tools.kubernetes.changes_extract import parse_time

log = logging.getLogger(__name__)


class Names:
    """Slack user id → display name (users.info), cached per process; the id when unknown."""

    def __init__(self, slack: AsyncWebClient) -> None:
        self._slack = slack
        self._cache: dict[str, str] = {}

    async def of(self, user_ids: set[str]) -> Mapping[str, str]:
        for uid in {u for u in user_ids if u.startswith(("U", "W"))} - set(self._cache):
            try:
                user = (await self._slack.users_info(user=uid))["user"]
                self._cache[uid] = str(user.get("name") or user.get("real_name") or uid)
            except (SlackApiError, KeyError, TypeError):
                self._cache[uid] = uid
        return {u: self._cache.get(u, u) for u in user_ids}


async def permalink(slack: AsyncWebClient, channel: str, ts: str) -> str | None:
    try:
        return str((await slack.chat_getPermalink(channel=channel, message_ts=ts))["permalink"])
    except (SlackApiError, KeyError):
        return None


def alert_meta(alert: Mapping[str, Any], link: str | None, *, resolved: bool) -> IncidentMeta:
    items = [a for a in alert.get("alerts") or [] if isinstance(a, dict)]
    starts = sorted(t for a in items if (t := _time(a.get("startsAt"))))
    ends = sorted(t for a in items if (t := _time(a.get("endsAt"))))
    labels = alert.get("commonLabels") or {}
    return IncidentMeta(
        alertname=str(labels.get("alertname") or "alert"),
        namespaces=tuple(sorted(alert_namespaces(dict(alert)))),
        link=link,
        fired_at=starts[0] if starts else None,
        resolved_at=(ends[-1] if ends else datetime.now(UTC)) if resolved else None,
    )


def _time(value: object) -> datetime | None:
    """Alertmanager's RFC 3339 time; its zero time ("0001-…") means unset."""
    return None if isinstance(value, str) and value.startswith("0001-") else parse_time(value)


class IncidentRecorder:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        slack: AsyncWebClient,
        memory: IncidentMemory | None,
        workspace: SlackWorkspace | None = None,
        findings: FindingsSource = answer_findings,
    ) -> None:
        self._pool = pool
        self._workspace = workspace
        self._slack = slack
        self._memory = memory
        self._findings = findings
        self.names = Names(slack)

    async def postmortem(self, job: Job, root: str) -> str:
        """The thread's postmortem (Markdown); stores it and remembers the incident."""
        alert = job.alert or {}
        if self._workspace is not None:  # the thread's link may then be posted as a link
            await self._workspace.learn()
        turns = await thread_turns(self._pool, job.channel_id, root, reader=None)
        names = await self.names.of({t.slack_user_id for t in turns if t.slack_user_id})
        d = digest(turns, names, self._findings)
        meta = alert_meta(alert, await permalink(self._slack, job.channel_id, root), resolved=True)
        markdown = postmortem_markdown(d, meta, await evidence_digest(self._pool, turns))
        record = IncidentRecord(
            channel_id=job.channel_id,
            thread_ts=root,
            alertname=meta.alertname,
            namespaces=meta.namespaces,
            labels={str(k): redact(str(v))[:256] for k, v in (alert.get("commonLabels") or {}).items()},
            link=meta.link,
            resolved_at=meta.resolved_at or datetime.now(UTC),
            findings=tuple(redact(s.text) for s in d.findings),
            fix=redact(d.fix.text) if d.fix else None,
            summary=redact(messages.alert_text(alert))[:500],
        )
        await self._save(record, meta, markdown)
        if self._memory is not None:
            try:
                await self._memory.store(record)
            except BackendError as exc:  # memory is a help, never a reason to fail the resolve
                log.warning("incident not remembered: %s", exc)
        return markdown

    async def _save(self, r: IncidentRecord, meta: IncidentMeta, markdown: str) -> None:
        await self._pool.execute(
            "INSERT INTO incidents (id, channel_id, thread_ts, alertname, namespaces, labels, link, "
            "fired_at, resolved_at, fix, findings, postmortem) "
            "VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11::jsonb, $12) "
            "ON CONFLICT (channel_id, thread_ts) DO UPDATE SET resolved_at = EXCLUDED.resolved_at, "
            "fix = EXCLUDED.fix, findings = EXCLUDED.findings, postmortem = EXCLUDED.postmortem, "
            "link = EXCLUDED.link, labels = EXCLUDED.labels",
            point_id(r.channel_id, r.thread_ts),
            r.channel_id,
            r.thread_ts,
            r.alertname,
            list(r.namespaces),
            json.dumps(r.labels),
            r.link,
            meta.fired_at,
            r.resolved_at,
            r.fix,
            json.dumps(list(r.findings)),
            markdown,
        )


class AlertResolution:
    """The worker's resolve path (moved out of app/worker.py), plus the postmortem."""

    def __init__(
        self,
        *,
        threads: AlertThreads,
        posts: SlackPosts,
        states: RedisJobStateStore,
        audit: AuditSink,
        recorder: IncidentRecorder | None,
    ) -> None:
        self._threads = threads
        self._posts = posts
        self._states = states
        self._audit = audit
        self._recorder = recorder

    async def resolve(self, job: Job) -> None:
        text = messages.alert_resolved_reply(job.alert or {})
        root = await self._threads.mark_resolved(job)
        raw = await self._states.raw(job.job_id)
        if not raw.get("message_ts"):
            ts = await self._post_once(
                job, root, messages.with_audit_ref(text, job.audit_id), "resolved", raw
            )
            await self._states.update(job.job_id, thread_ts=root, message_ts=ts)
        if self._recorder is not None and not raw.get("postmortem_ts"):
            # A store or Slack error propagates: the job stays pending and is retried.
            markdown = await self._recorder.postmortem(job, root)
            ts = await self._post_once(job, root, for_slack(markdown), "postmortem", raw)
            await self._states.update(job.job_id, postmortem_ts=ts)
        await self._states.update(
            job.job_id,
            answered=True,
            user_id=job.user_id,
            session_id=session_id(job.channel_id, root),
            response_hash=sha256_hex(text),
        )
        raw = await self._states.raw(job.job_id)
        if raw.get("audited") != "1":
            await write_once(self._audit, query_event(job, raw))
            await self._states.update(job.job_id, audited=True)

    async def _post_once(self, job: Job, root: str, text: str, part: str, raw: Mapping[str, str]) -> str:
        """Mark the post as started, then post: a redelivery after a crash in between finds the
        message by its tag instead of posting it twice."""
        started = f"{part}_started"
        if raw.get(started) != "1":
            await self._states.update(job.job_id, **{started: True})
        return await self._posts.post_once(job, text, root, part=part, maybe_posted=raw.get(started) == "1")
