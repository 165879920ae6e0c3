"""A signed @mention becomes exactly one threaded answer with an audit reference."""

from __future__ import annotations

from tests.scenario.conftest import ALICE, AUDIT_REF, CHANNEL, Harness, audit_ref


async def test_mention_gets_one_threaded_answer_with_existing_audit_row(harness: Harness) -> None:
    sent = await harness.sender.mention(ALICE, CHANNEL, "why is checkout returning 500s?")
    assert sent.status == 200
    root_ts = sent.payload["event"]["ts"]  # type: ignore[index]

    answer = await harness.wait_answer(CHANNEL, root_ts)

    assert answer.thread_ts == root_ts
    assert "why is checkout returning 500s?" in answer.text  # the simulator quotes the question
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

    body = answer.text.rsplit("\n\n_" + AUDIT_REF, 1)[0]
    assert row["response_hash"] == hashlib.sha256(body.encode()).hexdigest()
