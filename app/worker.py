"""Workers: take jobs off the stream and turn each into exactly one answer in Slack.

Per job: job state (idempotency record) → identity `scope_for` → thread → session →
`ThreadReply.open()` → `agent.answer()` → `reply.finish()` → `query` audit row (id = the
job's audit id) → session save → XACK.

Exactly-once rules:
- the answer message's ts is in the job state before anything is shown, so a reclaimed job
  updates it instead of posting again (ThreadReply);
- once the state says `answered`, a redelivery only writes the audit row if it is missing
  (the id is fixed, a unique violation means "already written"), saves the session if not
  yet saved, and acks — it never calls the agent again;
- Slack/Redis/Postgres errors leave the entry pending, so another worker (or this one)
  reclaims it with XAUTOCLAIM after `claim_idle_ms`; after `max_deliveries` the user gets
  a clear failure message, an audit row is written and the entry is acked (poison job);
- an agent failure is final for the job: the user sees a clear message, audit row, ack;
- a store outage is never a failure (app.store_wait): the job is held, pending, until the
  store is back; an answer is shown only after its `query` audit row is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from app import messages
from app.agent.base import Agent, AgentAnswer, AnswerSurface, Turn
from app.alert_threads import AlertThreads
from app.api_answers import ApiReply
from app.assistant_thread import AssistantThreads
from app.background import Background
from app.incidents.commands import COMMANDS as INCIDENT_COMMANDS
from app.incidents.commands import as_thread_command
from app.incidents.resolve import AlertResolution, IncidentRecorder
from app.job_audit import query_event, write_once
from app.jobs import Job
from app.private_reply import PrivateReplies
from app.queue import Delivery, JobQueue, RedisJobStateStore
from app.sessions import SessionStore, scope_tag
from app.slack.posts import SlackPosts
from app.store_wait import Probe, StoreWait, sleep_or_stop, wait_ready
from app.thread_intake import mark_started_thread
from kernel.audit import AuditSink, sha256_hex
from kernel.errors import AuthFailure, StoreUnavailable
from kernel.metrics import Metrics
from kernel.scope import EffectiveScope

log = logging.getLogger(__name__)

_NAMED = {"whoami", "login", "logout", "links", "pause", "resume", "audit", "jobs", "remember", "memory"}
IDENTITY_COMMANDS = frozenset(_NAMED) | INCIDENT_COMMANDS  # answered privately (+ catchup, postmortem)


class Reply(AnswerSurface, Protocol):
    """An opened answer surface the worker finishes: a Slack thread or an API answer stream."""

    async def finish(self, answer: AgentAnswer, *, audit_id: UUID) -> None: ...

    async def fail(self, message: str, *, audit_id: UUID) -> None: ...


class IdentityResolver(Protocol):
    """What the worker needs from app.identity.service.IdentityService."""

    async def scope_for(self, job: Job) -> EffectiveScope: ...

    async def command(self, job: Job) -> str: ...


class Worker:
    def __init__(
        self,
        *,
        queue: JobQueue,
        states: RedisJobStateStore,
        sessions: SessionStore,
        identity: IdentityResolver,
        agent: Agent,
        slack: AsyncWebClient,
        audit: AuditSink,
        metrics: Metrics,
        redis: aioredis.Redis,
        prefix: str,
        consumer: str,
        concurrency: int = 4,
        claim_idle_ms: int = 60_000,
        max_deliveries: int = 3,
        block_ms: int = 1000,
        scheduler: Background | None = None,
        store_probe: Probe | None = None,
        ready_check: Probe | None = None,
        max_held: int = 1000,
        posts: SlackPosts | None = None,
        incidents: IncidentRecorder | None = None,
    ) -> None:
        self._q = queue
        self._posts = posts or SlackPosts(client=slack)  # neutralized posts, links only to our hosts
        self._states = states
        self._sessions = sessions
        self._identity = identity
        self._agent = agent
        self._slack = slack
        self._audit = audit
        self._metrics = metrics
        self._redis = redis
        self._prefix = prefix
        self.consumer = consumer
        self._concurrency = max(1, concurrency)
        self._claim_idle_ms = claim_idle_ms
        self._max_deliveries = max_deliveries
        self._block_ms = block_ms
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._scheduler = scheduler  # fires due scheduled digests (once across all workers)
        self._alert_threads = AlertThreads(redis=redis, slack=slack, prefix=prefix, owner=consumer)
        self._resolution = AlertResolution(  # resolve reply, then the postmortem and incident memory
            threads=self._alert_threads, posts=self._posts, states=states, audit=audit, recorder=incidents
        )
        self._private = PrivateReplies(slack=slack)
        self._assistant = AssistantThreads(slack=slack, identity=identity)
        self._slots = asyncio.Semaphore(self._concurrency)
        self._stop = asyncio.Event()
        self._store_wait = StoreWait(probe=store_probe, slack=slack, redis=redis, prefix=prefix)
        self._max_held = max_held
        self._ready_check = ready_check

    # ---- loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; in-flight jobs are allowed to finish."""
        self._stop = stop
        await self._q.ensure_group()
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        scheduling = asyncio.create_task(self._scheduler.run(stop)) if self._scheduler else None
        last_claim = 0.0
        try:
            ready = await wait_ready(self._ready_check, stop)  # schema not migrated yet → no jobs
            while ready and not stop.is_set():
                # Jobs held for a store outage keep their entries but not a slot.
                held = self._store_wait.waiting
                free = min(self._concurrency - (len(self._inflight) - held), self._max_held - held)
                if free <= 0:
                    await self._store_wait.wait_any(set(self._inflight.values()))
                    continue
                batch: list[Delivery] = []
                try:
                    if time.monotonic() - last_claim >= self._claim_idle_ms / 2000:
                        last_claim = time.monotonic()
                        batch = await self._q.claim_stale(
                            self.consumer, min_idle_ms=self._claim_idle_ms, count=free
                        )
                    if not batch:
                        block = min(self._block_ms, max(10, self._claim_idle_ms // 2))
                        batch = await self._q.read(self.consumer, count=free, block_ms=block)
                except (OSError, aioredis.RedisError) as exc:
                    log.warning("queue read failed (%s); retrying", type(exc).__name__)
                    await sleep_or_stop(stop, 1.0)
                    continue
                for d in batch:
                    if d.entry_id in self._inflight:
                        continue
                    task = asyncio.create_task(self._run_one(d))
                    self._inflight[d.entry_id] = task
                    task.add_done_callback(self._forget(d.entry_id))
        finally:
            if self._inflight:
                await asyncio.wait(set(self._inflight.values()), timeout=30)
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            if scheduling is not None:
                await asyncio.wait([scheduling], timeout=5)  # it stops with `stop`

    def _forget(self, entry_id: str) -> Callable[[asyncio.Task[None]], None]:
        def done(_task: asyncio.Task[None]) -> None:
            self._inflight.pop(entry_id, None)

        return done

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Keep in-flight entries fresh so a slow (not dead) job is not reclaimed."""
        interval = max(0.05, self._claim_idle_ms / 3000)
        while not stop.is_set() or self._inflight:
            try:
                await self._q.touch(self.consumer, list(self._inflight))
                self._metrics.queue_depth.set(await self._q.pending_count())
            except (OSError, aioredis.RedisError):
                pass
            await asyncio.sleep(interval)

    async def _run_one(self, d: Delivery) -> None:
        kind = d.job.kind if d.job else "unknown"
        started = time.monotonic()
        while True:
            try:
                async with self._slots:
                    outcome = await self.process(d)
            except Exception as exc:
                if await self._store_wait.hold(exc, d.job, self._stop):
                    continue  # the store is back: try again
                # Left pending on purpose: reclaimed after claim_idle_ms, poison after max_deliveries.
                log.exception("job %s failed; it stays pending for retry", d.entry_id)
                outcome = "retry"
            break
        self._store_wait.done(d.job)
        self._metrics.jobs_done.labels(kind, outcome).inc()
        self._metrics.job_latency.observe(time.monotonic() - started)

    # ---- one job ---------------------------------------------------------------------------

    async def process(self, d: Delivery) -> str:
        """Handle one delivery; returns an outcome label. Raises → entry stays pending."""
        if d.job is None:
            await self._q.ack(d.entry_id)
            return "dropped"
        job = as_thread_command(d.job)  # "@aiops catchup" in a thread: a private command
        if d.reclaimed:
            self._metrics.jobs_reclaimed.inc()
        raw = await self._states.raw(job.job_id)
        if raw.get("answered") == "1":
            await self._complete(job, raw)
            await self._q.ack(d.entry_id)
            return "duplicate"
        if await self._q.delivery_count(d.entry_id) > self._max_deliveries:
            await self._give_up(job, raw, messages.GAVE_UP, "poison_job")
            await self._q.ack(d.entry_id)
            return "poison"
        if job.kind == "command" and job.command in IDENTITY_COMMANDS:
            await self._identity_command(job)
        elif job.kind == "alert" and (job.alert or {}).get("status") == "resolved":
            await self._resolution.resolve(job)
        elif job.kind == "assistant":  # the assistant container opened: title + suggested prompts
            await self._assistant.prepare(job)
        else:
            outcome = await self._answer(job, raw)
            await self._q.ack(d.entry_id)
            return outcome
        await self._q.ack(d.entry_id)
        return "ok"

    async def _answer(self, job: Job, raw: dict[str, str]) -> str:
        try:
            scope = await self._identity.scope_for(job)
        except AuthFailure as exc:
            await self._refuse(job, exc)
            return "refused"
        reply, session_id = await self._open_reply(job, raw)
        if raw.get("session_saved") == "1" and "answer_text" in raw:
            # A previous delivery got the answer and saved the session, then died before showing
            # it: show that same answer (text only) instead of asking the model again.
            answer = AgentAnswer(text=raw["answer_text"])
        else:
            history = await self._sessions.load(session_id, within=scope)
            started = time.monotonic()
            try:
                answer = await self._agent.answer(job, scope, history, reply)
            except Exception as exc:
                if not await self._store_wait.store_up():  # its audit writes failed: hold the job
                    raise StoreUnavailable("audit store unreachable during the agent run") from None
                log.error("agent failed on job %s: %s", job.job_id, type(exc).__name__)
                await self._fail(job, reply, messages.AGENT_FAILED, "agent_error", scope.user_id, session_id)
                return "agent_error"
            await self._states.update(
                job.job_id,
                user_id=scope.user_id,
                session_id=session_id,
                response_hash=sha256_hex(answer.text),
                latency_ms=int((time.monotonic() - started) * 1000),
                token_count=answer.usage.total,
                tool_calls=answer.tool_calls,
                answer_text=answer.text,
                scope_tag=scope_tag(scope),
            )
            # The session is saved before the answer is shown, so a follow-up the user sends
            # the moment they see it already finds this turn.
            await self._save_session(job, await self._states.raw(job.job_id))
        # Fail closed: an answer that cannot be audited is not shown (the job is held instead).
        await self._audit_query(job, await self._states.raw(job.job_id))
        await reply.finish(answer, audit_id=job.audit_id)
        await self._complete(job, await self._states.raw(job.job_id))
        return "answered"

    async def _complete(self, job: Job, raw: dict[str, str]) -> None:
        """After the answer is in Slack: audit row if missing, session save once."""
        await self._audit_query(job, raw)
        await self._save_session(job, raw)
        await self._redis.hdel(f"{self._prefix}:jobstate:{job.job_id}", "answer_text")

    async def _audit_query(self, job: Job, raw: dict[str, str]) -> None:
        """The job's `query` row, once (its id is the job's audit id)."""
        if "response_hash" in raw and raw.get("audited") != "1":
            await write_once(self._audit, query_event(job, raw))
            await self._states.update(job.job_id, audited=True)

    async def _save_session(self, job: Job, raw: dict[str, str]) -> None:
        """Append this turn to the thread session exactly once."""
        if raw.get("session_saved") != "1" and "answer_text" in raw and raw.get("session_id"):
            await self._sessions.append(
                raw["session_id"],
                user_id=raw.get("user_id") or job.user_id,
                turns=[Turn("user", job.text), Turn("assistant", raw["answer_text"])],
                audit_id=job.audit_id,
                scope=json.loads(raw["scope_tag"]) if raw.get("scope_tag") else None,
                slack_user_id=job.user_id,
            )
            await self._states.update(job.job_id, session_saved=True)

    async def _fail(
        self, job: Job, reply: Reply, text: str, reason: str, user_id: str, session_id: str | None
    ) -> None:
        await self._states.update(
            job.job_id,
            user_id=user_id,
            session_id=session_id,
            response_hash=sha256_hex(text),
            failure_reason=reason,
        )
        await reply.fail(text, audit_id=job.audit_id)
        await self._complete(job, await self._states.raw(job.job_id))

    async def _give_up(self, job: Job, raw: dict[str, str], text: str, reason: str) -> None:
        """Poison job: best effort to tell the user, always audit, then the caller acks."""
        try:
            reply, _session = await self._open_reply(job, raw)
            await self._fail(
                job, reply, text, reason, raw.get("user_id") or job.user_id, raw.get("session_id")
            )
        except Exception as exc:
            log.error("could not report poison job %s: %s", job.job_id, type(exc).__name__)
            await write_once(self._audit, query_event(job, {"failure_reason": reason}))

    # ---- refusals and identity commands ----------------------------------------------------

    async def _refuse(self, job: Job, exc: AuthFailure) -> None:
        """The identity service has already audited and counted the refusal; tell the user."""
        await self._private_reply(job, exc.user_message, offer_dm=True)
        await self._states.update(job.job_id, answered=True)

    async def _identity_command(self, job: Job) -> None:
        text = await self._identity.command(job)
        await self._private_reply(job, text)
        await self._states.update(job.job_id, answered=True)

    async def _private_reply(self, job: Job, text: str, *, offer_dm: bool = False) -> None:
        if job.kind == "api":  # only the asker sees it: on the API stream, or app.private_reply
            api = ApiReply(redis=self._redis, prefix=self._prefix, job=job)
            return await api.fail(text, audit_id=job.audit_id)
        await self._private.reply(job, self._posts.private_text(text), offer_dm=offer_dm)

    # ---- threads ---------------------------------------------------------------------------

    async def _open_reply(self, job: Job, raw: dict[str, str]) -> tuple[Reply, str]:
        """Where this job's answer goes, opened, and its session id."""
        if job.kind == "api":
            api = ApiReply(redis=self._redis, prefix=self._prefix, job=job)
            await api.open()
            return api, job.session_id
        job.thread_ts = thread_ts = await self._thread_for(job, raw)  # tool_call rows: this session
        reply = self._posts.reply(job, self._states, thread_ts)
        await reply.open()
        return reply, f"{job.channel_id}:{thread_ts}"

    async def _thread_for(self, job: Job, raw: dict[str, str]) -> str:
        if raw.get("thread_ts"):
            job.channel_id = raw.get("reply_channel") or job.channel_id
            return raw["thread_ts"]
        if job.kind == "alert":
            ts = await self._alert_threads.thread_for(job)
        elif job.thread_ts or job.event_ts:
            ts = str(job.thread_ts or job.event_ts)
        elif job.kind == "scheduled":  # a digest opens its own thread under a root naming it
            resp = await self._slack.chat_postMessage(channel=job.channel_id, text=job.text)
            ts = str(resp["ts"])
        else:  # slash command: a root that shows the question — in a DM if the bot can't post here
            ts = await self._private.command_thread(job, self._states)
        await mark_started_thread(self._redis, self._prefix, job, ts)  # follow-ups there are for us
        await self._states.update(job.job_id, thread_ts=ts)
        return ts
