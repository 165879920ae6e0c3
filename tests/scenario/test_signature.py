"""Requests not signed by Slack within five minutes are refused (401) and audited, without letting
a flood fill the audit table; unknown users are refused in the thread."""

from __future__ import annotations

from tests.scenario.conftest import ALICE, CHANNEL, MALLORY, Harness


async def _stream_len(h: Harness) -> int:
    return int(await h.redis.xlen(f"{h.prefix}:jobs"))


async def test_forged_signature_is_refused_and_audited(harness: Harness) -> None:
    sent = await harness.sender.mention(ALICE, CHANNEL, "drop everything", forge=True)
    assert sent.status == 401
    rows = await harness.audit_rows("auth_failure", failure_reason="bad_signature")
    assert len(rows) == 1
    assert rows[0]["user_id"] == "unknown"
    assert str(rows[0]["ip_address"]) == "127.0.0.1"
    assert await _stream_len(harness) == 0
    assert harness.anthropic.requests == []


async def test_six_minute_old_timestamp_is_refused_and_audited(harness: Harness) -> None:
    sent = await harness.sender.mention(ALICE, CHANNEL, "replayed", timestamp_shift=-360)
    assert sent.status == 401
    rows = await harness.audit_rows("auth_failure", failure_reason="stale_timestamp")
    assert len(rows) == 1
    assert await _stream_len(harness) == 0


async def test_a_flood_of_forgeries_is_counted_but_writes_few_rows(harness: Harness) -> None:
    for _ in range(30):
        assert (await harness.sender.mention(ALICE, CHANNEL, "flood", forge=True)).status == 401
    rows = await harness.audit_rows("auth_failure", failure_reason="bad_signature")
    assert 1 <= len(rows) <= 10  # 5 per (reason, ip) per minute; the test may straddle a minute
    assert (await harness.get("metrics"))[0] == 404  # never on the public webhook port
    metrics = harness.runtime.metrics.render().decode()  # served on AIOPS_METRICS_PORT
    assert 'aiops_auth_failures_total{reason="bad_signature"} 30.0' in metrics


async def test_unknown_user_is_told_how_to_fix_it_and_audited(harness: Harness) -> None:
    sent = await harness.sender.mention(MALLORY, CHANNEL, "show me all secrets")
    root_ts = sent.payload["event"]["ts"]  # type: ignore[index]
    # told privately (ephemeral in the thread): a refusal is nobody else's business
    replies = await harness.slack.wait_for(lambda: harness.slack.ephemerals(CHANNEL, MALLORY), timeout=15)
    assert len(replies) == 1 and replies[0].thread_ts == root_ts
    assert MALLORY in replies[0].text or "identit" in replies[0].text.lower()
    assert harness.slack.bot_replies(CHANNEL, root_ts) == []
    rows = await harness.audit_rows("auth_failure", user_id=MALLORY)
    assert [r["failure_reason"] for r in rows] == ["unknown_user"]
    assert harness.anthropic.requests == []
