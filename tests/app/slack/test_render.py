"""Splitting at Slack's limits (property-based) and the throttled update fallback."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from app.agent.base import AgentAnswer
from app.slack.render import MAX_BLOCKS, MAX_MARKDOWN, render_answer, split_markdown
from app.slack.stream import UpdateWriter

words = st.text(alphabet=st.sampled_from(list("abc xyz\n`#*-")), min_size=0, max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    paras=st.lists(st.one_of(words, st.just("```"), st.text(min_size=0, max_size=3000)), max_size=40),
    limit=st.integers(200, 3000),
)
def test_split_respects_limit_and_balances_fences(paras, limit):
    text = "\n".join(paras)
    parts = split_markdown(text, limit)
    for p in parts:
        assert len(p) <= limit + 8
        assert p.count("```") % 2 == 0
    # nothing is lost: every non-space character survives in order (fence markers may be added)
    joined = "".join(parts).replace("```", "")
    assert [c for c in joined if not c.isspace()] == [c for c in text.replace("```", "") if not c.isspace()]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 60_000))
def test_render_answer_messages_fit_slack(n):
    msgs = render_answer(AgentAnswer(text="word " * (n // 5), evidence=["up"] * 20), uuid.uuid4())
    for m in msgs:
        assert len(m.blocks) <= MAX_BLOCKS
        assert sum(len(b.get("text", "")) for b in m.blocks if b["type"] == "markdown") <= MAX_MARKDOWN
        assert len(m.text) <= 3000
    assert msgs[-1].blocks[-2]["type"] == "context_actions"


async def test_update_fallback_is_throttled(slack_sim, slack_client):
    root = slack_sim.post_user_message("C1", "U1", "q").ts
    resp = await slack_client.chat_postMessage(channel="C1", thread_ts=root, text="_Looking into it…_")
    w = UpdateWriter(client=slack_client, channel="C1", ts=resp["ts"], min_interval_s=3600)
    for i in range(50):
        await w.append(f"chunk {i} ")
    await w.stop()
    updates = slack_sim.calls_to("chat.update")
    assert len(updates) == 1  # the first append; the rest waited for the (cancelled) throttled update
    assert w.text.endswith("chunk 49 ")
