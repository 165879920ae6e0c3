"""DMs and `/aiops` reach the same answer path; bot posts and edits never trigger an answer."""

from __future__ import annotations

from sim.slack_events import dm_message_event
from tests.scenario.conftest import (
    ALICE,
    AUDIT_REF,
    CHANNEL,
    DM_ALICE,
    VERA,
    Harness,
    audit_ref,
    visible,
)


async def test_dm_is_answered_in_its_thread(harness: Harness) -> None:
    sent = await harness.sender.dm(ALICE, DM_ALICE, "how many pods in payments?")
    assert sent.status == 200
    ts = sent.payload["event"]["ts"]  # type: ignore[index]
    answer = await harness.wait_answer(DM_ALICE, ts)
    assert "how many pods in payments?" in visible(answer)
    row = await harness.wait_audit_row(audit_ref(answer))
    assert row["user_id"] == "kc-alice"


async def test_bot_messages_edits_and_other_subtypes_are_ignored(harness: Harness) -> None:
    bot_post = dm_message_event(user=ALICE, channel=DM_ALICE, text="I am a bot")
    bot_post["bot_id"] = "B0OTHER"
    edit = dm_message_event(user=ALICE, channel=DM_ALICE, text="edited")
    edit["subtype"] = "message_changed"
    joined = dm_message_event(user=ALICE, channel=DM_ALICE, text="joined")
    joined["subtype"] = "channel_join"
    channel_msg = dm_message_event(user=ALICE, channel=CHANNEL, text="plain channel chatter")
    channel_msg["channel_type"] = "channel"
    for ev in (bot_post, edit, joined, channel_msg):
        assert (await harness.sender.event(ev)).status == 200
    # a real DM afterwards is answered; by then the ignored ones would have been too
    real = await harness.sender.dm(ALICE, DM_ALICE, "real question")
    await harness.wait_answer(DM_ALICE, real.payload["event"]["ts"])  # type: ignore[index]
    answers = [m for m in harness.slack.messages(DM_ALICE) if m.is_bot and AUDIT_REF in visible(m)]
    assert len(answers) == 1
    assert len(harness.anthropic.requests) == 1


async def test_slash_command_question_opens_a_thread_with_the_answer(harness: Harness) -> None:
    sent = await harness.sender.command(VERA, CHANNEL, "why is checkout slow?")
    assert sent.status == 200
    assert "thread" in sent.body  # the ephemeral ack tells the user where the answer goes

    def root() -> object:
        return next(
            (m for m in harness.slack.root_messages(CHANNEL) if "why is checkout slow?" in m.text), None
        )

    root_msg = await harness.slack.wait_for(root, timeout=15)
    answer = await harness.wait_answer(CHANNEL, root_msg.ts)  # type: ignore[attr-defined]
    row = await harness.wait_audit_row(audit_ref(answer))
    assert row["user_id"] == "kc-vera"
    assert row["user_message"] == "why is checkout slow?"


async def test_slash_help_answers_immediately_without_a_job(harness: Harness) -> None:
    sent = await harness.sender.command(VERA, CHANNEL, "help")
    assert sent.status == 200
    assert "/aiops whoami" in sent.body
    assert await harness.redis.xlen(f"{harness.prefix}:jobs") == 0


async def test_slash_whoami_answers_privately(harness: Harness) -> None:
    sent = await harness.sender.command(VERA, CHANNEL, "whoami")
    assert sent.status == 200
    eph = await harness.slack.wait_for(lambda: harness.slack.ephemerals(CHANNEL, VERA), timeout=15)
    assert "vera" in eph[0].text
    assert harness.slack.root_messages(CHANNEL) == []


async def test_url_verification_and_button_clicks_are_acknowledged(harness: Harness) -> None:
    challenge = await harness.sender.url_verification("abc123")
    assert challenge.status == 200 and "abc123" in challenge.body
    click = await harness.sender.click(ALICE, CHANNEL, "1.0", action_id="feedback", value="good:x")
    assert click.status == 200
    empty = await harness.sender.command(ALICE, CHANNEL, "   ")
    assert empty.status == 200 and "/aiops help" in empty.body


async def test_feedback_click_under_an_answer_is_recorded(harness: Harness) -> None:
    sent = await harness.sender.mention(ALICE, CHANNEL, "rate me")
    root_ts = sent.payload["event"]["ts"]  # type: ignore[index]
    answer = await harness.wait_answer(CHANNEL, root_ts)
    buttons = next(b for b in answer.blocks if b["type"] == "context_actions")["elements"][0]
    value = buttons["negative_button"]["value"]
    click = await harness.sender.click(
        VERA, CHANNEL, answer.ts, action_id=buttons["action_id"], value=value, thread_ts=root_ts
    )
    assert click.status == 200
    rows = await harness.pg.fetch("SELECT * FROM feedback WHERE audit_id = $1::uuid", audit_ref(answer))
    assert [(r["rating"], r["slack_user_id"]) for r in rows] == [("bad", VERA)]
