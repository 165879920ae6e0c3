"""The kill switch: with the Redis flag set (an admin's pause) or AIOPS_TOOLS_PAUSED=true, a
question gets a clear "paused by the platform team" answer and neither the model nor any tool
is called."""

from __future__ import annotations

import redis.asyncio as aioredis

from tests.scenario.conftest import ALICE, CHANNEL, VERA, HarnessFactory, visible


async def test_paused_flag_stops_the_agent_until_cleared(
    make_harness: HarnessFactory, redis_client: aioredis.Redis
) -> None:
    h = await make_harness()
    await redis_client.set(f"{h.prefix}:tools_paused", "1")
    sent = await h.sender.mention(ALICE, CHANNEL, "why is checkout failing?")
    answer = await h.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]
    assert "paused by the platform team" in visible(answer)
    assert h.anthropic.requests == []  # no model call, hence no tool call
    assert h.runtime.metrics.registry.get_sample_value("aiops_tools_paused") == 1


async def test_the_setting_pauses_every_worker(make_harness: HarnessFactory) -> None:
    h = await make_harness(env={"AIOPS_TOOLS_PAUSED": "true"})
    sent = await h.sender.mention(ALICE, CHANNEL, "what broke?")
    answer = await h.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]
    assert "paused by the platform team" in visible(answer)
    assert h.anthropic.requests == []


async def test_admin_pause_and_resume_are_audited_and_flip_every_worker(
    make_harness: HarnessFactory, redis_client: aioredis.Redis
) -> None:
    h = await make_harness()
    flag = f"{h.prefix}:tools_paused"
    refused = await h.sender.command(VERA, CHANNEL, "pause")  # a viewer
    assert refused.status == 200
    eph = await h.slack.wait_for(lambda: h.slack.ephemerals(CHANNEL, VERA), timeout=15)
    assert "Only admins" in eph[-1].text and not await redis_client.exists(flag)

    assert (await h.sender.command(ALICE, CHANNEL, "pause")).status == 200  # an admin
    await h.slack.wait_for(lambda: any("paused" in m.text for m in h.slack.ephemerals(CHANNEL, ALICE)),
                           timeout=15)
    assert await redis_client.exists(flag)
    sent = await h.sender.mention(VERA, CHANNEL, "is checkout ok?")
    answer = await h.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]
    assert "paused by the platform team" in visible(answer)

    assert (await h.sender.command(ALICE, CHANNEL, "resume")).status == 200
    await h.slack.wait_for(lambda: any("resumed" in m.text for m in h.slack.ephemerals(CHANNEL, ALICE)),
                           timeout=15)
    assert not await redis_client.exists(flag)
    rows = await h.audit_rows("admin")
    assert [(r["user_message"], r["failure_reason"]) for r in rows] == [
        ("/aiops pause", "not_admin"), ("/aiops pause", None), ("/aiops resume", None)]
    assert {r["user_id"] for r in rows} == {"kc-vera", "kc-alice"}
