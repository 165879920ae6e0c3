"""Channel scope fails closed and `/aiops` works anywhere (issue 11 items 3 and 5).

- An unlisted channel under AIOPS_CHANNEL_DEFAULT=deny (the default): an admin's question gets
  no public answer, only an ephemeral refusal offering a DM, and an `auth_failure` row.
- A Slack Connect channel is refused under `own` too, unless listed explicitly.
- DMs keep the user's own scope; alert threads in the incident channel still get their triage.
- `/aiops` in a channel the bot never joined: identity commands answer through response_url,
  a question is answered in the user's DM and the response_url says so — never silence.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.scenario.alerts_data import FIRING
from tests.scenario.conftest import (
    ALICE,
    AUDIT_REF,
    CHANNEL,
    DM_ALICE,
    INCIDENT_CHANNEL,
    Harness,
    HarnessFactory,
    visible,
)

NOT_JOINED = "C0NOTJOINED"
SHARED = "C0CONNECT"
DENY = {"AIOPS_CHANNEL_DEFAULT": "deny"}
OWN = {"AIOPS_CHANNEL_DEFAULT": "own"}


def scopes_file(tmp_path: Path, scopes: dict[str, list[str]]) -> dict[str, str]:
    path = tmp_path / "channel-scopes.yaml"
    path.write_text(json.dumps(scopes))
    return {"AIOPS_CHANNEL_SCOPES": str(path)}


def dm_button(blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("type") == "button" and "url" in element:
                return element
    return None


async def test_unlisted_channel_is_refused_by_default_with_a_dm_offer(make_harness: HarnessFactory) -> None:
    h = await make_harness(env=DENY)
    sent = await h.sender.mention(ALICE, CHANNEL, "show me everything in the cluster")
    root_ts = sent.payload["event"]["ts"]
    eph = await h.slack.wait_for(lambda: h.slack.ephemerals(CHANNEL, ALICE), timeout=15)
    assert "DM" in eph[0].text and "channel" in eph[0].text
    button = dm_button(eph[0].blocks)
    assert button is not None and DM_ALICE in button["url"]
    assert h.slack.bot_replies(CHANNEL, root_ts) == []  # nothing anyone else can read
    assert h.anthropic.requests == []
    rows = await h.audit_rows("auth_failure", user_id=ALICE)
    assert [r["failure_reason"] for r in rows] == ["out_of_scope"]


async def test_slash_question_in_unlisted_channel_is_refused_through_response_url(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(env=DENY)
    await h.sender.command(ALICE, CHANNEL, "what is broken?")
    reply = await h.slack.wait_for(lambda: h.slack.responses, timeout=15)
    assert reply[0]["body"]["response_type"] == "ephemeral"
    assert "DM" in reply[0]["body"]["text"]
    assert h.slack.root_messages(CHANNEL) == []


async def test_dm_keeps_the_users_own_scope_under_deny(make_harness: HarnessFactory) -> None:
    h = await make_harness(env=DENY)
    sent = await h.sender.dm(ALICE, DM_ALICE, "how is payments?")
    await h.wait_answer(DM_ALICE, sent.payload["event"]["ts"])
    system = h.anthropic.requests[0]["system"]
    assert "all namespaces" in json.dumps(system)  # admin in a DM: her own (unlimited) scope


async def test_listed_channel_is_answered_within_its_scope(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(env=DENY | scopes_file(tmp_path, {CHANNEL: ["checkout"]}))
    sent = await h.sender.mention(ALICE, CHANNEL, "how is checkout?")
    await h.wait_answer(CHANNEL, sent.payload["event"]["ts"])
    assert "checkout" in json.dumps(h.anthropic.requests[0]["system"])


async def test_alert_threads_in_the_incident_channel_still_get_triage(make_harness: HarnessFactory) -> None:
    h = await make_harness(env=DENY)
    await h.post_alert(copy.deepcopy(FIRING))
    roots = await h.slack.wait_for(lambda: h.slack.root_messages(INCIDENT_CHANNEL), timeout=15)
    triage = await h.wait_answer(INCIDENT_CHANNEL, roots[0].ts)
    assert AUDIT_REF in visible(triage)


async def test_slack_connect_channel_refused_unless_listed(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(env=OWN)
    h.slack.add_channel(SHARED, "shared-with-vendor", ext_shared=True)
    sent = await h.sender.mention(ALICE, SHARED, "what's up with payments?")
    eph = await h.slack.wait_for(lambda: h.slack.ephemerals(SHARED, ALICE), timeout=15)
    assert "another organisation" in eph[0].text
    assert h.slack.bot_replies(SHARED, sent.payload["event"]["ts"]) == []
    # an ordinary unlisted channel under `own` is answered with the user's own scope
    plain = await h.sender.mention(ALICE, CHANNEL, "and here?")
    await h.wait_answer(CHANNEL, plain.payload["event"]["ts"])
    assert len(h.slack.calls_to("conversations.info")) == 2
    again = await h.sender.mention(ALICE, CHANNEL, "again?")
    await h.wait_answer(CHANNEL, again.payload["event"]["ts"])
    assert len(h.slack.calls_to("conversations.info")) == 2  # cached


async def test_slack_connect_channel_listed_explicitly_is_answered(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(env=OWN | scopes_file(tmp_path, {SHARED: ["payments"]}))
    h.slack.add_channel(SHARED, "shared-with-vendor", ext_shared=True)
    sent = await h.sender.mention(ALICE, SHARED, "what's up with payments?")
    await h.wait_answer(SHARED, sent.payload["event"]["ts"])


async def test_whoami_where_the_bot_is_not_a_member_answers_through_response_url(harness: Harness) -> None:
    harness.slack.add_channel(NOT_JOINED, "random", bot_member=False)
    await harness.sender.command(ALICE, NOT_JOINED, "whoami")
    reply = await harness.slack.wait_for(lambda: harness.slack.responses, timeout=15)
    assert "alice" in reply[0]["body"]["text"]
    assert harness.slack.ephemerals(NOT_JOINED, ALICE)  # the user sees it in that channel


async def test_question_where_the_bot_is_not_a_member_is_answered_in_a_dm(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(env=DENY | scopes_file(tmp_path, {NOT_JOINED: ["checkout"]}))
    h.slack.add_channel(NOT_JOINED, "team-checkout", bot_member=False)
    sent = await h.sender.command(ALICE, NOT_JOINED, "why is checkout slow?")
    assert sent.status == 200
    reply = await h.slack.wait_for(lambda: h.slack.responses, timeout=15)
    assert "DM" in reply[0]["body"]["text"] and dm_button(reply[0]["body"]["blocks"]) is not None

    def dm_root() -> Any:
        return next((m for m in h.slack.root_messages(DM_ALICE) if "why is checkout slow?" in m.text), None)

    root = await h.slack.wait_for(dm_root, timeout=15)
    answer = await h.wait_answer(DM_ALICE, root.ts)
    assert AUDIT_REF in visible(answer)
    assert h.slack.messages(NOT_JOINED) == [] or all(not m.is_bot for m in h.slack.messages(NOT_JOINED))
    assert "checkout" in json.dumps(h.anthropic.requests[0]["system"])  # still the channel's scope


async def test_response_url_is_good_for_five_replies_within_thirty_minutes(harness: Harness) -> None:
    import aiohttp

    url = harness.slack.response_url(CHANNEL, ALICE)
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(6):
            async with http.post(url, json={"text": "hi"}) as resp:
                statuses.append(resp.status)
        assert statuses == [200] * 5 + [404]
        fresh = harness.slack.response_url(CHANNEL, ALICE)
        harness.slack.expire_response_urls()
        async with http.post(fresh, json={"text": "late"}) as resp:
            assert resp.status == 404 and await resp.text() == "expired_url"


async def test_people_asking_in_an_alert_thread_keep_the_alerts_namespace(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(env=DENY)  # the incident channel itself is not listed
    await h.post_alert(copy.deepcopy(FIRING))  # namespace checkout
    roots = await h.slack.wait_for(lambda: h.slack.root_messages(INCIDENT_CHANNEL), timeout=15)
    await h.wait_answer(INCIDENT_CHANNEL, roots[0].ts)
    await h.sender.channel_message(
        ALICE, INCIDENT_CHANNEL, "is payments affected too?", thread_ts=roots[0].ts
    )

    def two() -> bool:
        return sum(AUDIT_REF in visible(m) for m in h.slack.bot_replies(INCIDENT_CHANNEL, roots[0].ts)) == 2

    await h.slack.wait_for(two, timeout=20)
    system = json.dumps(h.anthropic.requests[-1]["system"])
    assert "checkout" in system and "all namespaces" not in system  # the admin is held to the alert's
    # a top-level question in the unlisted incident channel is still refused
    top = await h.sender.mention(ALICE, INCIDENT_CHANNEL, "anything else?")
    await h.slack.wait_for(lambda: h.slack.ephemerals(INCIDENT_CHANNEL, ALICE), timeout=15)
    assert h.slack.bot_replies(INCIDENT_CHANNEL, top.payload["event"]["ts"]) == []
