"""Issue 10 item 5: what goes into the log. Credentials typed into Slack never reach Redis,
PostgreSQL or the model; the user is told once; a slash command's query and tool_call rows
share one session_id."""

from __future__ import annotations

import json

from sim.anthropic import SimReply
from tests.scenario.conftest import ALICE, CHANNEL, DM_ALICE, VERA, Harness, audit_ref

PASSWORD = "Hunter2-Pa55w0rd!"
SLACK_TOKEN = "xoxb-112233445566-abcdefABCDEF123456"
DSN_PASSWORD = "s3cr3tDbPw"
PRIVATE_KEY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"


async def _everything_stored(h: Harness) -> str:
    keys = [k async for k in h.redis.scan_iter(match=f"{h.prefix}*")]
    parts = []
    for key in keys:
        kind = (await h.redis.type(key)).decode()
        if kind == "stream":
            parts.append(repr(await h.redis.xrange(key)))
        elif kind == "hash":
            parts.append(repr(await h.redis.hgetall(key)))
        elif kind == "list":
            parts.append(repr(await h.redis.lrange(key, 0, -1)))
        elif kind == "string":
            parts.append(repr(await h.redis.get(key)))
    for table in ("audit_events", "conversations"):
        rows = await h.pg.fetch(f"SELECT * FROM {table}")
        parts.append(repr([dict(r) for r in rows]))
    parts.append(json.dumps(h.anthropic.requests))
    return "\n".join(parts)


async def test_credentials_typed_in_slack_are_redacted_everywhere(harness: Harness) -> None:
    text = (
        f"login fails with password={PASSWORD} using token {SLACK_TOKEN}, "
        f"db postgres://app:{DSN_PASSWORD}@db:5432/shop and key "
        f"-----BEGIN PRIVATE KEY-----\n{PRIVATE_KEY}\n-----END PRIVATE KEY-----"
    )
    sent = await harness.sender.dm(ALICE, DM_ALICE, text)
    root_ts = sent.payload["event"]["ts"]  # type: ignore[index]
    answer = await harness.wait_answer(DM_ALICE, root_ts)
    row = await harness.wait_audit_row(audit_ref(answer))
    assert "[REDACTED:password]" in row["user_message"]
    assert "[REDACTED:slack_token]" in row["user_message"]

    stored = await _everything_stored(harness)
    for secret in (PASSWORD, SLACK_TOKEN, DSN_PASSWORD, PRIVATE_KEY):
        assert secret not in stored
    assert "postgres://app:[REDACTED:connection_string]@db" in stored  # the question still reads

    notes = [
        m
        for m in harness.slack.thread(DM_ALICE, root_ts)
        if "removed what looked like a credential" in m.text
    ]
    assert len(notes) == 1
    for m in harness.slack.bot_replies(DM_ALICE, root_ts):
        assert PASSWORD not in m.text and SLACK_TOKEN not in m.text


async def test_a_question_without_credentials_gets_no_notice(harness: Harness) -> None:
    sent = await harness.sender.mention(ALICE, CHANNEL, "is the password reset page slow?")
    root_ts = sent.payload["event"]["ts"]  # type: ignore[index]
    await harness.wait_answer(CHANNEL, root_ts)
    assert not [m for m in harness.slack.thread(CHANNEL, root_ts) if "credential" in m.text]


async def test_slash_command_query_and_tool_calls_share_a_session(harness: Harness) -> None:
    harness.anthropic.script(
        [SimReply(tool_uses=[("runbook_search", {"query": "checkout latency"})]), SimReply(text="done")]
    )
    await harness.sender.command(ALICE, CHANNEL, "why is checkout slow today?")

    def root() -> object:
        return next(
            (m for m in harness.slack.root_messages(CHANNEL) if "checkout slow today" in m.text), None
        )

    root_msg = await harness.slack.wait_for(root, timeout=15)
    answer = await harness.wait_answer(CHANNEL, root_msg.ts)  # type: ignore[attr-defined]
    query = await harness.wait_audit_row(audit_ref(answer))
    tools = await harness.audit_rows("tool_call", session_id=query["session_id"])
    assert query["session_id"] == f"{CHANNEL}:{root_msg.ts}"  # type: ignore[attr-defined]
    assert len(tools) == 1 and json.loads(tools[0]["tool_calls"])[0]["tool"] == "runbook_search"


async def _ephemeral(h: Harness, user: str, n: int) -> str:
    found = await h.slack.wait_for(lambda: len(h.slack.ephemerals(CHANNEL, user)) >= n or None, timeout=15)
    assert found
    return str(h.slack.ephemerals(CHANNEL, user)[n - 1].text)


async def test_slash_audit_shows_the_asker_and_admins_the_row_and_refuses_others(harness: Harness) -> None:
    harness.anthropic.script(
        [
            SimReply(tool_uses=[("runbook_search", {"query": "payments errors"})]),
            SimReply(text="payments looks fine"),
        ]
    )
    sent = await harness.sender.mention(VERA, CHANNEL, "are payments erroring?")
    answer = await harness.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]
    ref = audit_ref(answer)
    await harness.wait_audit_row(ref)

    await harness.sender.command(VERA, CHANNEL, f"audit {ref}")  # the asker
    mine = await _ephemeral(harness, VERA, 1)
    assert f"query {ref}" in mine and "are payments erroring?" in mine
    assert "tool call: runbook_search" in mine and "payments looks fine" not in mine

    await harness.sender.command(ALICE, CHANNEL, f"audit {ref}")  # an admin
    assert f"query {ref}" in await _ephemeral(harness, ALICE, 1)

    harness.anthropic.script([SimReply(text="ok")])
    own = await harness.sender.mention(ALICE, CHANNEL, "and checkout?")
    alice_ref = audit_ref(await harness.wait_answer(CHANNEL, own.payload["event"]["ts"]))  # type: ignore[index]
    await harness.wait_audit_row(alice_ref)
    await harness.sender.command(VERA, CHANNEL, f"audit {alice_ref}")  # a viewer, someone else's
    refused = await _ephemeral(harness, VERA, 2)
    assert "only if you asked that question or are an admin" in refused and "and checkout?" not in refused
    await harness.sender.command(VERA, CHANNEL, "audit 00000000-0000-0000-0000-000000000000")
    assert "only if you asked" in await _ephemeral(harness, VERA, 3)  # same answer: no probing
