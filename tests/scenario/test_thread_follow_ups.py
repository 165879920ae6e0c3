"""Thread follow-ups without an @mention (issue 11 item 6): answered only in threads the bot
started or was mentioned in; everything else is dropped before the queue and never stored;
an `app_mention` and its `message.channels` copy give one answer; earlier turns reach the
model only when their scope lies within the current asker's."""

from __future__ import annotations

import json
from typing import Any

from tests.scenario.conftest import ALICE, AUDIT_REF, CHANNEL, VERA, Harness, visible


def answers(h: Harness, thread_ts: str) -> list[Any]:
    return [m for m in h.slack.bot_replies(CHANNEL, thread_ts) if AUDIT_REF in visible(m)]


async def _count(h: Harness, thread_ts: str, n: int) -> None:
    await h.slack.wait_for(lambda: len(answers(h, thread_ts)) >= n, timeout=20, what=f"{n} answers")


async def test_follow_up_without_mention_in_a_thread_the_bot_was_mentioned_in(harness: Harness) -> None:
    first = await harness.sender.mention(ALICE, CHANNEL, "what broke in checkout?")
    root = first.payload["event"]["ts"]
    await _count(harness, root, 1)
    follow = await harness.sender.channel_message(ALICE, CHANNEL, "and since when?", thread_ts=root)
    assert follow.status == 200
    await _count(harness, root, 2)
    last = harness.anthropic.requests[-1]["messages"]
    assert "and since when?" in json.dumps(last[-1]["content"])


async def test_other_threads_and_chatter_are_dropped_and_never_stored(harness: Harness) -> None:
    chatter = await harness.sender.channel_message(VERA, CHANNEL, "lunch anyone?")
    reply = await harness.sender.channel_message(
        ALICE, CHANNEL, "sure", thread_ts=chatter.payload["event"]["ts"]
    )
    assert chatter.status == 200 and reply.status == 200
    assert await harness.redis.xlen(f"{harness.prefix}:jobs") == 0
    stream = f"{harness.prefix}:jobs".encode()  # created empty by the worker's consumer group
    keys = [k async for k in harness.redis.scan_iter(match=f"{harness.prefix}:*") if k != stream]
    assert keys == [], keys  # not even a dedup marker
    # a later mention is answered, so the dropped ones were not merely slow
    later = await harness.sender.mention(ALICE, CHANNEL, "now you")
    await _count(harness, later.payload["event"]["ts"], 1)
    assert len(harness.anthropic.requests) == 1


async def test_mention_and_its_message_copy_are_answered_once(harness: Harness) -> None:
    first = await harness.sender.mention(ALICE, CHANNEL, "start")
    root = first.payload["event"]["ts"]
    await _count(harness, root, 1)
    # a mention inside the thread: Slack sends app_mention AND message.channels (other event id)
    copy = await harness.sender.mention(ALICE, CHANNEL, "<@U0AIOPS> and payments?", thread_ts=root)
    ts = copy.payload["event"]["ts"]
    again = await harness.sender.channel_message(
        ALICE, CHANNEL, "<@U0AIOPS> and payments?", thread_ts=root, ts=ts
    )
    assert again.status == 200
    await _count(harness, root, 2)
    marker = await harness.sender.channel_message(ALICE, CHANNEL, "one more", thread_ts=root)
    assert marker.status == 200
    await _count(harness, root, 3)
    assert len(answers(harness, root)) == 3
    assert len(harness.anthropic.requests) == 3


async def test_follow_up_in_a_thread_the_bot_started_with_a_slash_command(harness: Harness) -> None:
    await harness.sender.command(ALICE, CHANNEL, "why is checkout slow?")
    root_msg = await harness.slack.wait_for(
        lambda: next((m for m in harness.slack.root_messages(CHANNEL) if m.is_bot), None), timeout=15
    )
    await _count(harness, root_msg.ts, 1)
    await harness.sender.channel_message(ALICE, CHANNEL, "and payments?", thread_ts=root_msg.ts)
    await _count(harness, root_msg.ts, 2)


async def test_earlier_turns_of_a_wider_scope_do_not_reach_a_narrower_asker(harness: Harness) -> None:
    first = await harness.sender.mention(ALICE, CHANNEL, "secret-ish question about payments")
    root = first.payload["event"]["ts"]
    await _count(harness, root, 1)
    await harness.sender.channel_message(VERA, CHANNEL, "what did she ask?", thread_ts=root)
    await _count(harness, root, 2)
    vera_request = json.dumps(harness.anthropic.requests[-1]["messages"])
    assert "secret-ish question about payments" not in vera_request  # Alice sees more than Vera
    await harness.sender.channel_message(ALICE, CHANNEL, "and you?", thread_ts=root)
    await _count(harness, root, 3)
    alice_request = json.dumps(harness.anthropic.requests[-1]["messages"])
    assert "secret-ish question about payments" in alice_request
    assert "what did she ask?" in alice_request  # Vera's turn lies within Alice's scope
