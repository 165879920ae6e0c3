"""A signed @mention becomes exactly one threaded answer with an audit reference."""

from __future__ import annotations

import json

from tests.scenario.conftest import ALICE, AUDIT_REF, CHANNEL, Harness, audit_ref, visible


async def test_mention_gets_one_threaded_answer_with_existing_audit_row(harness: Harness) -> None:
    sent = await harness.sender.mention(ALICE, CHANNEL, "why is checkout returning 500s?")
    assert sent.status == 200
    root_ts = sent.payload["event"]["ts"]  # type: ignore[index]

    answer = await harness.wait_answer(CHANNEL, root_ts)

    assert answer.thread_ts == root_ts
    assert "why is checkout returning 500s?" in visible(answer)  # the simulator quotes the question
    assert len(harness.slack.bot_replies(CHANNEL, root_ts)) == 1
    assert harness.slack.root_messages(CHANNEL)[-1].user == ALICE  # no stray top-level bot post
    row = await harness.wait_audit_row(audit_ref(answer))
    assert row["event_type"] == "query"
    assert row["user_id"] == "kc-alice"
    assert row["user_message"] == "why is checkout returning 500s?"
    assert row["agent_version"] == "test-sha"
    assert row["latency_ms"] is not None and row["token_count"] > 0
    # only the hash of the answer, never the text
    import hashlib

    body = next(b["text"] for b in answer.blocks if b["type"] == "markdown")
    assert row["response_hash"] == hashlib.sha256(body.encode()).hexdigest()


async def test_slack_retries_of_the_same_event_give_one_answer(harness: Harness) -> None:
    first = await harness.sender.mention(ALICE, CHANNEL, "is payments healthy?")
    envelope = first.payload
    assert first.status == 200
    # Slack redelivers the identical envelope with X-Slack-Retry-Num 1 and 2.
    from sim.slack_events import json_body

    for n in (1, 2):
        again = await harness.sender.post(*json_body(envelope), retry_num=n)  # type: ignore[arg-type]
        assert again.status == 200
    root_ts = envelope["event"]["ts"]  # type: ignore[index]
    answer = await harness.wait_answer(CHANNEL, root_ts)
    # a later, unrelated event is answered too: by then the retries would have been processed
    later = await harness.sender.mention(ALICE, CHANNEL, "and now?")
    await harness.wait_answer(CHANNEL, later.payload["event"]["ts"])  # type: ignore[index]

    assert [m.ts for m in harness.slack.bot_replies(CHANNEL, root_ts)] == [answer.ts]
    assert len(await harness.audit_rows("query", user_message="is payments healthy?")) == 1
    assert len(harness.anthropic.requests) == 2


async def test_follow_up_in_thread_sees_earlier_turns_and_session_ttl_is_at_most_two_hours(
    harness: Harness,
) -> None:
    first = await harness.sender.mention(ALICE, CHANNEL, "what broke in checkout?")
    root_ts = first.payload["event"]["ts"]  # type: ignore[index]
    first_answer = await harness.wait_answer(CHANNEL, root_ts)

    follow = await harness.sender.mention(ALICE, CHANNEL, "and since when?", thread_ts=root_ts)
    assert follow.status == 200

    def second_answer() -> bool:
        replies = [m for m in harness.slack.bot_replies(CHANNEL, root_ts) if AUDIT_REF in visible(m)]
        return len(replies) == 2

    await harness.slack.wait_for(second_answer, timeout=20)
    second_request = harness.anthropic.requests[-1]
    texts = [
        m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])
        for m in second_request["messages"]
    ]
    assert any("what broke in checkout?" in t for t in texts)
    earlier = next(b["text"] for b in first_answer.blocks if b["type"] == "markdown")
    assert any(earlier in t for t in texts), "the model must see the earlier answer"
    assert "and since when?" in texts[-1]

    key = f"{harness.prefix}:session:{CHANNEL}:{root_ts}"
    ttl = await harness.redis.ttl(key)
    assert 0 < ttl <= 7200
    rows = await harness.pg.fetch(
        "SELECT role, content FROM conversations WHERE session_id = $1 ORDER BY id",
        f"{CHANNEL}:{root_ts}",
    )
    assert [r["role"] for r in rows] == ["user", "assistant", "user", "assistant"]


async def test_health_readiness_and_metrics_of_the_running_app(harness: Harness) -> None:
    assert (await harness.get("healthz"))[0] == 200
    status, body = await harness.get("readyz")
    # the receiver needs only Redis to ack: a PostgreSQL outage must not make Slack bounce events
    assert status == 200 and json.loads(body) == {"status": "ready", "redis": "ok"}
    sent = await harness.sender.mention(ALICE, CHANNEL, "count me")
    await harness.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]
    registry = harness.runtime.metrics.registry
    labels = {"kind": "mention", "outcome": "answered"}
    await harness.slack.wait_for(lambda: registry.get_sample_value("aiops_jobs_total", labels) == 1.0)
    metrics = harness.runtime.metrics.render().decode()  # what AIOPS_METRICS_PORT serves
    assert 'aiops_events_received_total{source="mention"} 1.0' in metrics
    assert 'aiops_jobs_total{kind="mention",outcome="answered"} 1.0' in metrics
