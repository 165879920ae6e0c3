"""Token budget (result cap, compaction), untrusted-data containment, retry policy, daily budget."""

from __future__ import annotations

import random
import re
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from app.agent.budget import TokenBudget, estimate_tokens
from app.agent.claude import ClaudeAgent
from app.agent.prompt import alert_question
from app.agent.retry import backoff_delay
from app.agent.usage import DailyTokenBudget
from app.jobs import Job
from tests.app.agent.helpers import RecordingSurface, scope_for

hostile = st.text(alphabet=st.sampled_from(list("<>/&\"'ab tool_result alert_data system\n")), max_size=400)


@settings(max_examples=300, deadline=None)
@given(content=hostile, name=st.sampled_from(["prometheus_query", "k8s_list", "x"]))
def test_capped_result_is_always_one_closed_tag(content, name):
    budget = TokenBudget(context_window=200, result_share=0.1)  # cap = 20 tokens
    text, capped = budget.cap_result(name, content * 3)
    if not capped:
        assert text == content * 3
        return
    assert re.fullmatch(rf'<tool_result name="{name}" truncated="true">[^<>]*</tool_result>', text)
    assert "narrow" in text.lower() or "aggregate" in text.lower() or "pass a" in text.lower()


@settings(max_examples=200, deadline=None)
@given(label=hostile, summary=hostile)
def test_alert_labels_stay_inside_alert_data(label, summary):
    q = alert_question(
        {"labels": {"alertname": label, "namespace": "shop"}, "annotations": {"summary": summary}}, "shop"
    )
    assert q.count("<alert_data>") == 1 and q.count("</alert_data>") == 1
    inner = q.split("<alert_data>", 1)[1].rsplit("</alert_data>", 1)[0]
    assert "<" not in inner and ">" not in inner


def test_compaction_elides_oldest_results_and_keeps_pairing():
    budget = TokenBudget(context_window=10_000, compact_at=0.5)
    msgs = [{"role": "user", "content": "q"}]
    for i in range(6):
        msgs.append(
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": f"t{i}", "name": "k8s_list", "input": {}}],
            }
        )
        msgs.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": f"t{i}", "content": "x" * 4000}],
            }
        )
    before = estimate_tokens(msgs)
    saved = budget.compact(msgs, fixed_tokens=500)
    assert saved > 0 and estimate_tokens(msgs) + 500 <= 5_000 < before
    assert msgs[-1]["content"][0]["content"] == "x" * 4000  # newest results untouched
    assert "elided" in msgs[2]["content"][0]["content"] and "k8s_list" in msgs[2]["content"][0]["content"]
    ids = [m["content"][0]["tool_use_id"] for m in msgs[2::2]]
    assert ids == [f"t{i}" for i in range(6)]


@given(attempt=st.integers(0, 10), retry_after=st.one_of(st.none(), st.floats(0, 60)), seed=st.integers())
def test_backoff_honours_retry_after_and_cap(attempt, retry_after, seed):
    d = backoff_delay(attempt, retry_after, base_s=0.5, cap_s=8, rng=random.Random(seed))
    if retry_after is not None:
        assert d >= retry_after
    else:
        assert 0 <= d <= 8


async def test_retry_after_beyond_deadline_goes_offline_without_waiting(
    anthropic_sim, anthropic_client, metrics
):
    anthropic_sim.fail_next(529, times=5, retry_after=600)
    agent = ClaudeAgent(
        client=anthropic_client,
        model="m",
        router=None,
        audit=None,
        metrics=metrics,  # type: ignore[arg-type]
        deadline_s=30,
    )
    job = Job(job_id=uuid.uuid4().hex, kind="mention", channel_id="C1", user_id="U1", text="q")
    answer = await agent.answer(job, scope_for("viewer"), [], RecordingSurface())
    assert answer.offline and len(anthropic_sim.requests) == 1


async def test_daily_budget_counts_per_user_per_day(redis_client, redis_prefix):
    b = DailyTokenBudget(redis=redis_client, prefix=redis_prefix, limit=1000)
    assert not await b.exceeded("alice")
    assert await b.charge("alice", 600) == 600
    assert await b.charge("alice", 500) == 1100
    assert await b.exceeded("alice") and not await b.exceeded("bob")
    keys = [k.decode() async for k in redis_client.scan_iter(match=f"{redis_prefix}:tokens:*")]
    assert len(keys) == 1 and keys[0].endswith(":alice")
    assert 0 < await redis_client.ttl(keys[0]) <= 2 * 86_400
    unlimited = DailyTokenBudget(redis=redis_client, prefix=redis_prefix, limit=0)
    assert not await unlimited.exceeded("alice")
