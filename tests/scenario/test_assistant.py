"""The assistant container (issue 11 item 7): opening it gives a title and suggested prompts
that fit the user's role and scope; a question typed there is answered in that thread with a
status while working."""

from __future__ import annotations

from typing import Any

from tests.scenario.conftest import ALICE, AUDIT_REF, MALLORY, VERA, Harness, visible


def prompts_for(h: Harness, user: str) -> list[dict[str, Any]]:
    dm = h.slack.dm_channel(user)
    return [p for p in h.slack.suggested_prompts if p["channel_id"] == dm]


async def test_prompts_and_title_fit_role_and_scope(harness: Harness) -> None:
    for user in (ALICE, VERA, MALLORY):
        sent = await harness.sender.assistant_thread(user, context_channel="C0GENERAL")
        assert sent.status == 200
    for user in (ALICE, VERA, MALLORY):
        await harness.slack.wait_for(lambda u=user: prompts_for(harness, u), timeout=15)  # type: ignore[misc]
    alice = [p["message"] for p in prompts_for(harness, ALICE)[0]["prompts"]]
    vera = [p["message"] for p in prompts_for(harness, VERA)[0]["prompts"]]
    mallory = [p["message"] for p in prompts_for(harness, MALLORY)[0]["prompts"]]
    assert any("nodes" in m for m in alice)  # admin: cluster-wide prompts
    assert all("payments" not in m for m in vera) and any("`checkout`" in m for m in vera)
    assert not any("fix" in m for m in vera)  # viewers get no recommendations
    assert mallory == ["How do I get access to aiops?"]
    titles = harness.slack.titles
    assert any("vera" in t and "checkout" in t for t in titles.values())
    assert harness.anthropic.requests == []  # setting up the container never asks the model


async def test_context_change_refreshes_prompts_and_questions_get_status(harness: Harness) -> None:
    started = await harness.sender.assistant_thread(VERA)
    thread_ts = started.payload["event"]["assistant_thread"]["thread_ts"]
    await harness.slack.wait_for(lambda: prompts_for(harness, VERA), timeout=15)
    await harness.sender.assistant_thread(
        VERA, kind="assistant_thread_context_changed", thread_ts=thread_ts, context_channel="C0OTHER"
    )
    await harness.slack.wait_for(lambda: len(prompts_for(harness, VERA)) == 2, timeout=15)
    dm = harness.slack.dm_channel(VERA)
    asked = await harness.sender.dm(
        VERA, dm, "What is unhealthy in `checkout` right now?", thread_ts=thread_ts
    )
    assert asked.status == 200

    def answered() -> Any:
        return next((m for m in harness.slack.bot_replies(dm, thread_ts) if AUDIT_REF in visible(m)), None)

    await harness.slack.wait_for(answered, timeout=20)
    assert harness.slack.status_of(dm, thread_ts) is not None  # status was shown while working
