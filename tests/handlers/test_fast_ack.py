"""The Events API fast path: signed event callbacks are queued before Bolt, with no call to
Slack's Web API (acking works while Slack's API is unreachable), one Lua call per event, and
the same enqueue/drop decision as Bolt's listeners."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.web.async_client import AsyncWebClient

from app.audit.log import PostgresAuditLog
from app.jobs import Job
from app.queue import JobQueue
from app.thread_intake import ThreadIntake
from handlers.fast_ack import (
    DROP,
    DUPLICATE,
    QUEUED,
    UNMET,
    EventDecision,
    EventIntake,
    FastAck,
    decide_event,
)
from handlers.slack import RejectionRecorder, SlackEndpoint, build_bolt_app
from kernel.metrics import Metrics
from sim.slack_events import SlackEventSender, app_mention_event, dm_message_event, event_callback

SECRET = "fast-ack-signing-secret"
UNREACHABLE = "http://127.0.0.1:1/api/"  # nothing listens: any Web API call would fail


async def start(
    redis: aioredis.Redis, prefix: str, audit: PostgresAuditLog, metrics: Metrics, *, fast: bool = True
) -> tuple[web.AppRunner, SlackEventSender, EventIntake]:
    client = AsyncWebClient(token="xoxb-unused", base_url=UNREACHABLE)
    intake = EventIntake(redis=redis, prefix=prefix, metrics=metrics)
    queue = JobQueue(redis=redis, prefix=prefix)
    bolt = build_bolt_app(client=client, signing_secret=SECRET, queue=queue, metrics=metrics,
                          intake=ThreadIntake(redis=redis, prefix=prefix))
    endpoint = SlackEndpoint(
        bolt=bolt, signing_secret=SECRET, rejections=RejectionRecorder(audit=audit, metrics=metrics),
        fast=FastAck(intake=intake) if fast else None,
    )
    app = web.Application()
    app.router.add_post("/slack/events", endpoint.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    return runner, SlackEventSender(url=url, signing_secret=SECRET), intake


@pytest.fixture
async def served(
    redis_client: aioredis.Redis, redis_prefix: str, audit_log: PostgresAuditLog
) -> AsyncIterator[tuple[SlackEventSender, Metrics]]:
    metrics = Metrics()
    runner, sender, intake = await start(redis_client, redis_prefix, audit_log, metrics)
    try:
        yield sender, metrics
    finally:
        await runner.cleanup()
        await intake.aclose()


async def _jobs(redis: aioredis.Redis, prefix: str) -> list[Job]:
    entries = await redis.xrange(f"{prefix}:jobs")
    return [Job.from_fields(fields) for _, fields in entries]


async def test_events_are_acked_and_queued_while_slack_api_is_unreachable(
    served: tuple[SlackEventSender, Metrics], redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    sender, metrics = served
    mention = await sender.mention("U1", "C1", "why is checkout failing?")
    dm = await sender.dm("U2", "D2", "and payments?")
    assert (mention.status, dm.status) == (200, 200)
    jobs = await _jobs(redis_client, redis_prefix)
    assert [(j.kind, j.user_id, j.text) for j in jobs] == [
        ("mention", "U1", "why is checkout failing?"),  # the bot's <@…> tag is stripped
        ("dm", "U2", "and payments?"),
    ]
    assert metrics.events_received.labels("mention")._value.get() == 1


async def test_slash_commands_still_go_through_bolt_without_auth_test(
    served: tuple[SlackEventSender, Metrics], redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    sender, _ = served
    sent = await sender.command("U1", "C1", "why is checkout failing?")
    assert sent.status == 200
    assert [j.kind for j in await _jobs(redis_client, redis_prefix)] == ["command"]


async def test_concurrent_deliveries_of_one_event_are_queued_once(
    served: tuple[SlackEventSender, Metrics], redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    sender, metrics = served
    envelopes = [event_callback(app_mention_event(user="U1", channel="C1", text=f"<@U0AIOPS> q{i}"))
                 for i in range(20)]
    bodies = [json.dumps(e).encode() for e in envelopes]
    # every event three times, all at once (Slack's retries racing a slow first attempt)
    results = await asyncio.gather(*(sender.post(b, "application/json", retry_num=n)
                                     for b in bodies for n in (None, 1, 2)))
    assert {r.status for r in results} == {200}
    jobs = await _jobs(redis_client, redis_prefix)
    assert sorted(j.job_id for j in jobs) == sorted(e["event_id"] for e in envelopes)
    assert metrics.events_duplicate.labels("mention")._value.get() == 40


async def test_redis_down_means_no_ack(redis_prefix: str, audit_log: PostgresAuditLog) -> None:
    dead = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    runner, sender, intake = await start(dead, redis_prefix, audit_log, Metrics())
    try:
        assert (await sender.mention("U1", "C1", "hello")).status >= 500
    finally:
        await runner.cleanup()
        await intake.aclose()
        await dead.aclose()


async def test_a_follow_up_needs_a_marked_thread_checked_in_the_same_call(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    intake = EventIntake(redis=redis_client, prefix=redis_prefix, metrics=Metrics())
    try:
        job = Job(job_id="Ev1", kind="mention", channel_id="C1", user_id="U1", text="x",
                  thread_ts="1.0", event_ts="1.1")
        decision = EventDecision(job, "thread", dedup="dedup:msg:C1:1.1", require="thread:C1:1.0")
        assert await intake.submit(decision) == UNMET
        await redis_client.set(f"{redis_prefix}:thread:C1:1.0", "1")
        assert await intake.submit(decision) == QUEUED
        assert await intake.submit(decision) == DUPLICATE
        assert await redis_client.xlen(f"{redis_prefix}:jobs") == 1
    finally:
        await intake.aclose()


async def test_fast_path_and_bolt_queue_the_same_jobs(
    redis_client: aioredis.Redis, audit_log: PostgresAuditLog
) -> None:
    """The same deliveries — mentions (and their message.channels copy), DMs, follow-ups in a
    thread the bot is in and in one it is not, bot posts, edits — through each path."""
    async def run(fast: bool) -> list[tuple[str, str, str, bool]]:
        prefix = f"aiops-t-eq-{'fast' if fast else 'bolt'}-{id(redis_client)}"
        runner, sender, intake = await start(redis_client, prefix, audit_log, Metrics(), fast=fast)
        try:
            root = await sender.mention("U1", "C1", "why is checkout failing?", event_id="EvA")
            root_ts = root.payload["event"]["ts"]
            copy = event_callback(dm_message_event(user="U1", channel="C1", text="<@U0AIOPS> why?",
                                                   ts=root_ts), event_id="EvB")
            copy["event"]["channel_type"] = "channel"
            await sender.post(json.dumps(copy).encode(), "application/json")
            await sender.dm("U2", "D2", "and payments?", event_id="EvC")
            for event_id, text, thread in (("EvD", "and since when?", root_ts), ("EvE", "other", "1.000001")):
                reply = dm_message_event(user="U2", channel="C1", text=text, thread_ts=thread)
                reply["channel_type"] = "channel"
                await sender.post(json.dumps(event_callback(reply, event_id=event_id)).encode(),
                                  "application/json")
            bot_post = dm_message_event(user="U0AIOPS", channel="D2", text="hi")
            bot_post["bot_id"] = "B1"
            bot_body = json.dumps(event_callback(bot_post, event_id="EvF")).encode()
            await sender.post(bot_body, "application/json")
            jobs = await _jobs(redis_client, prefix)
            return [(j.job_id, j.kind, j.text, j.thread_ts == root_ts) for j in jobs]
        finally:
            await runner.cleanup()
            await intake.aclose()
            keys = [k async for k in redis_client.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis_client.delete(*keys)

    fast, bolt = await run(True), await run(False)
    assert fast == bolt
    assert fast == [("EvA", "mention", "why is checkout failing?", False),
                    ("EvC", "dm", "and payments?", False),
                    ("EvD", "mention", "and since when?", True)]


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["app_mention", "message"]),
    channel_type=st.sampled_from(["im", "channel", "group", None]),
    subtype=st.sampled_from([None, "bot_message", "message_changed", "channel_join"]),
    bot_id=st.sampled_from([None, "B1"]),
    user=st.sampled_from([None, "U1", "U0AIOPS"]),
    in_thread=st.booleans(),
)
def test_only_a_persons_mention_dm_or_thread_message_is_queued(
    kind: str, channel_type: str | None, subtype: str | None, bot_id: str | None, user: str | None,
    in_thread: bool,
) -> None:
    builder = app_mention_event if kind == "app_mention" else dm_message_event
    event = builder(user=user or "", channel="C1", text="<@U0AIOPS> hi")
    event.pop("user") if user is None else None
    for key, value in (("channel_type", channel_type), ("subtype", subtype), ("bot_id", bot_id)):
        event.pop(key, None)
        if value is not None:
            event[key] = value
    if in_thread:
        event["thread_ts"] = "1.000001"
    decision = decide_event(event_callback(event))
    person = user is not None and bot_id is None
    if kind == "app_mention":
        expected = person
    else:
        expected = person and subtype is None and user != "U0AIOPS" and (channel_type == "im" or in_thread)
    assert isinstance(decision, EventDecision) == expected
    assert decision is not None  # mentions and messages are always decided here, never left to Bolt
    if isinstance(decision, EventDecision):
        assert decision.job.text == "hi" and decision.job.user_id == user
        assert (decision.require is not None) == (kind == "message" and channel_type != "im")
    else:
        assert decision == DROP
