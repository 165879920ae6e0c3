"""The Events API fast path: a verified mention or message is decided and queued before Bolt.

Bolt's dispatch (request parsing, context, authorize, a middleware chain, listener matching)
cost about 5 times everything else on the ack path, and for a mention or message all the ack
needs is "enqueue or drop" plus one Redis round trip. So, after `SlackEndpoint` has verified
the signature (and refused hostile JSON): `decide_event()` turns the envelope into an
`EventDecision` (or `DROP`), and `EventIntake` runs app.thread_intake's Lua script — dedup,
thread membership for follow-ups, XADD, thread marking — as one call, pipelined with the
calls of concurrent requests on one connection (app.redis_pipe). Slack gets its 200 only after
its own entry is on the stream.

The rules are those of Bolt's listeners in handlers/slack.py (issue 11's thread follow-ups):
a person's mention → queued, dedup on channel + ts, its thread marked; a person's DM → queued,
dedup on event id; a person's message in a thread → queued only if the thread is marked; any
other message → dropped. Every other event type (assistant container, url_verification …),
slash commands, interactivity and Socket Mode still go through Bolt. tests/handlers/
test_fast_ack.py checks that both paths queue the same jobs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Final

import orjson
import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.credentials import redact_job
from app.jobs import Job, JobKind
from app.queue import DEDUP_TTL_S
from app.redis_pipe import PipelinedScript
from app.thread_intake import _INTAKE_LUA, THREAD_TTL_S, message_key, thread_key
from kernel.metrics import Metrics

log = logging.getLogger(__name__)

JSON = dict[str, Any]
QUEUED, DUPLICATE, UNMET = 1, 0, -1
RETRIES = 8
OURS: Final = frozenset({"app_mention", "message"})
"""Event types the fast path decides; any other goes to Bolt."""


@dataclass(frozen=True)
class EventDecision:
    """"Enqueue this job": `source` is the metric label; the keys (without the prefix) are the
    Lua script's — `dedup` seen before → duplicate; `require` must exist (thread membership);
    `mark` is set when queued (the bot now takes part in that thread)."""

    job: Job
    source: str
    dedup: str
    require: str | None = None
    mark: str | None = None


DROP: Final = "drop"
"""A mention/message that is not for the bot: acknowledged, never stored."""


def bot_user_id(body: JSON) -> str | None:
    """The bot's own user id from the envelope's `authorizations` (no auth.test needed)."""
    auths = body.get("authorizations")
    if isinstance(auths, list) and auths and isinstance(auths[0], dict) and auths[0].get("is_bot"):
        uid = auths[0].get("user_id")
        return str(uid) if uid else None
    return None


def decide_event(body: JSON) -> EventDecision | str | None:
    """`EventDecision` (queue), `DROP`, or None (not a mention/message: Bolt decides)."""
    event = body.get("event")
    if not isinstance(event, dict) or event.get("type") not in OURS or "event_id" not in body:
        return None
    bot = bot_user_id(body)
    if event.get("type") == "app_mention":
        if event.get("bot_id") or not event.get("user"):
            return DROP
        job = event_job(body, event, "mention", bot)
        root = str(job.thread_ts or job.event_ts)
        return EventDecision(job, "mention", dedup=_rel(message_key("", job.channel_id, str(job.event_ts))),
                             mark=_rel(thread_key("", job.channel_id, root)))
    # Only a person's own new message; bot posts, edits, deletions, joins… are ignored.
    if event.get("subtype") or event.get("bot_id") or not event.get("user") or event.get("user") == bot:
        return DROP
    if event.get("channel_type") == "im":
        job = event_job(body, event, "dm", bot)
        return EventDecision(job, "dm", dedup=f"dedup:{job.job_id}")
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts"):
        return DROP  # top-level channel chatter: only a mention (app_mention) is for us
    job = event_job(body, event, "mention", bot)
    return EventDecision(job, "thread", dedup=_rel(message_key("", job.channel_id, str(job.event_ts))),
                         require=_rel(thread_key("", job.channel_id, str(thread_ts))))


def _rel(key: str) -> str:
    return key[1:]  # built with an empty prefix: ":dedup:…" → "dedup:…"


def event_job(body: JSON, event: JSON, kind: JobKind, bot: str | None) -> Job:
    """A mention, DM or thread message as a job; the Slack event_id is its job id (both intake
    paths — this one and Bolt's listeners — build jobs here, so they queue identical jobs)."""
    return Job(
        job_id=str(body["event_id"]),
        kind=kind,
        channel_id=str(event["channel"]),
        user_id=str(event["user"]),
        text=strip_mention(str(event.get("text", "")), bot),
        team_id=body.get("team_id"),
        thread_ts=event.get("thread_ts"),
        event_ts=str(event["ts"]),
    )


def strip_mention(text: str, bot: str | None) -> str:
    if bot:
        text = text.replace(f"<@{bot}>", " ")
    return " ".join(text.split())  # whitespace runs → one space, trimmed


class EventIntake:
    """One Lua call per decided event (app.thread_intake's script), pipelined on one connection."""

    def __init__(self, *, redis: aioredis.Redis, prefix: str, metrics: Metrics) -> None:
        self._prefix = prefix
        self._stream = f"{prefix}:jobs"
        self._metrics = metrics
        self._script = PipelinedScript(redis=redis, script=_INTAKE_LUA)
        self._counters: dict[tuple[int, str], Any] = {}

    async def submit(self, decision: EventDecision) -> int:
        """QUEUED / DUPLICATE / UNMET (thread not marked). Raises if Redis did not take it."""
        p = self._prefix
        keys = [
            f"{p}:{decision.dedup}",
            self._stream,
            f"{p}:{decision.require}" if decision.require else "",
            f"{p}:{decision.mark}" if decision.mark else "",
        ]
        payload = redact_job(decision.job).stream_json()  # no credential is stored
        delay = 0.02
        for attempt in range(RETRIES + 1):
            try:
                outcome = int(await self._script(keys, [DEDUP_TTL_S, payload, THREAD_TTL_S]))
                break
            except (RedisConnectionError, RedisTimeoutError, OSError):
                # A Redis restart must not become a 500 for Slack (as app.stores.REDIS_CLIENT_OPTIONS):
                # retry for ~1.5 s. Safe: if a lost reply had queued it, the retry says DUPLICATE.
                if attempt == RETRIES:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.25)
        self._count(outcome, decision.source)
        return outcome

    def _count(self, outcome: int, source: str) -> None:
        if outcome not in (QUEUED, DUPLICATE):
            return
        counter = self._counters.get((outcome, source))
        if counter is None:  # labels() costs as much as the rest of the bookkeeping: cache
            metric = self._metrics.events_received if outcome == QUEUED else self._metrics.events_duplicate
            counter = self._counters[(outcome, source)] = metric.labels(source)
        counter.inc()

    async def aclose(self) -> None:
        await self._script.aclose()


class FastAck:
    """`POST /slack/events` for verified mention/message callbacks: 200 once queued (or
    dropped), 500 when Redis cannot take it. Anything else → None: the caller hands it to Bolt."""

    def __init__(self, *, intake: EventIntake) -> None:
        self._intake = intake

    async def handle(self, body: bytes, content_type: str) -> web.Response | None:
        if content_type != "application/json" or b'"event_callback"' not in body:
            return None
        try:  # orjson: a third of json.loads' time for an event envelope
            payload = orjson.loads(body)
        except (ValueError, RecursionError):  # orjson.JSONDecodeError is a ValueError
            return None  # Bolt answers malformed bodies the way it always did
        if not isinstance(payload, dict) or payload.get("type") != "event_callback":
            return None
        decision = decide_event(payload)
        if decision is None:
            return None
        if isinstance(decision, EventDecision):
            try:
                await self._intake.submit(decision)
            except Exception as exc:  # not on the stream → not acknowledged: Slack will retry
                log.error("could not queue event (%s)", type(exc).__name__)
                return web.Response(status=500)
        return web.Response(status=200)
