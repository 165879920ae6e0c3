"""Signed requests from sim.slack_events are exactly what Slack sends: slack_sdk's verifier and a
real Bolt app accept them, and reject the forged and replayed variants."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from sim.slack import SlackSimulator, SlackUser
from sim.slack_events import SlackEventSender, sign, signed

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0INCIDENT"


# Slack bodies are UTF-8 text (JSON or form-encoded); slack_sdk decodes them before hashing.
@given(secret=st.from_regex(r"[!-~]{1,64}", fullmatch=True), text=st.text(max_size=2000))
def test_signature_matches_slack_sdk_verifier(secret: str, text: str) -> None:
    body = text.encode()
    now = str(int(time.time()))
    verifier = SignatureVerifier(secret)
    assert verifier.is_valid(body, now, sign(secret, now, body))
    # Any change to the body or the secret breaks it.
    assert not verifier.is_valid(body + b" ", now, sign(secret, now, body))
    assert not verifier.is_valid(body, now, sign(secret + "x", now, body))


@given(shift=st.integers(min_value=301, max_value=10**6), sign_=st.sampled_from([-1, 1]))
def test_shifted_timestamp_is_rejected_by_verifier(shift: int, sign_: int) -> None:
    req = signed(b"{}", signing_secret=SECRET, content_type="application/json", timestamp_shift=sign_ * shift)
    headers = {k.lower(): v for k, v in req.headers.items()}
    assert not SignatureVerifier(SECRET).is_valid_request(req.body, headers)


def test_forged_signature_is_rejected_and_retry_headers_are_set() -> None:
    req = signed(b"{}", signing_secret=SECRET, content_type="application/json", forge=True, retry_num=2)
    headers = {k.lower(): v for k, v in req.headers.items()}
    assert not SignatureVerifier(SECRET).is_valid_request(req.body, headers)
    assert headers["x-slack-retry-num"] == "2" and headers["x-slack-retry-reason"] == "http_timeout"
    good = signed(b"{}", signing_secret=SECRET, content_type="application/json")
    good_headers = {k.lower(): v for k, v in good.headers.items()}
    assert SignatureVerifier(SECRET).is_valid_request(good.body, good_headers)


@pytest.fixture
async def slack() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator(users=[SlackUser("U0ALICE", "alice")]) as sim:
        sim.add_channel(CHANNEL, "incidents")
        yield sim


@pytest.fixture
async def bolt_url(slack: SlackSimulator) -> AsyncIterator[tuple[str, dict[str, list[Any]]]]:
    """A real Bolt app (signature check, auth.test, listeners) against the simulator."""
    seen: dict[str, list[Any]] = {"mention": [], "dm": [], "command": [], "action": []}
    app = AsyncApp(signing_secret=SECRET,
                   client=AsyncWebClient(base_url=slack.base_url, token=slack.bot_token))

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: Any) -> None:
        seen["mention"].append(event)
        await say(text=f"on it: {event['text']}", thread_ts=event.get("thread_ts") or event["ts"])

    @app.event("message")
    async def on_dm(event: dict[str, Any], say: Any) -> None:
        seen["dm"].append(event)
        await say(text="dm answer")

    @app.command("/aiops")
    async def on_command(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack()
        seen["command"].append(command)
        await respond(text=f"you said {command['text']}")

    @app.action("feedback")
    async def on_feedback(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen["action"].append(body)

    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/slack/events", seen
    finally:
        await runner.cleanup()


async def test_mention_reaches_bolt_and_answer_lands_in_thread(
    slack: SlackSimulator, bolt_url: tuple[str, dict[str, list[Any]]]
) -> None:
    url, seen = bolt_url
    sender = SlackEventSender(url=url, signing_secret=SECRET, sim=slack)
    result = await sender.mention("U0ALICE", CHANNEL, "why is checkout failing?")
    assert result.status == 200
    envelope = result.payload
    assert envelope is not None and envelope["event"]["text"] == "<@U0AIOPS> why is checkout failing?"
    assert envelope["event_id"].startswith("Ev") and envelope["authorizations"][0]["user_id"] == "U0AIOPS"
    root = slack.root_messages(CHANNEL)[0]
    assert seen["mention"][0]["ts"] == root.ts  # the event names the message the simulator shows
    replies = await slack.wait_for(lambda: slack.bot_replies(CHANNEL, root.ts))
    assert replies[0].text == "on it: <@U0AIOPS> why is checkout failing?"
    assert "alice: <@U0AIOPS> why is checkout failing?" in slack.render_conversation(CHANNEL)


async def test_forged_and_stale_requests_get_401_and_reach_no_listener(
    slack: SlackSimulator, bolt_url: tuple[str, dict[str, list[Any]]]
) -> None:
    url, seen = bolt_url
    sender = SlackEventSender(url=url, signing_secret=SECRET, sim=slack)
    assert (await sender.mention("U0ALICE", CHANNEL, "forged", forge=True)).status == 401
    assert (await sender.mention("U0ALICE", CHANNEL, "stale", timestamp_shift=-600)).status == 401
    wrong = SlackEventSender(url=url, signing_secret="not-the-secret", sim=slack)
    assert (await wrong.command("U0ALICE", CHANNEL, "whoami")).status == 401
    assert seen == {"mention": [], "dm": [], "command": [], "action": []}
    assert slack.calls_to("chat.postMessage") == []


async def test_dm_command_and_click(
    slack: SlackSimulator, bolt_url: tuple[str, dict[str, list[Any]]]
) -> None:
    url, seen = bolt_url
    sender = SlackEventSender(url=url, signing_secret=SECRET, sim=slack)
    assert (await sender.dm("U0ALICE", "D0ALICE", "hello")).status == 200
    await slack.wait_for(lambda: slack.messages("D0ALICE")[1:])
    assert seen["dm"][0]["channel_type"] == "im"

    assert (await sender.url_verification("abc")).json() == {"challenge": "abc"}

    result = await sender.command("U0ALICE", CHANNEL, "whoami")
    assert result.status == 200
    responses = await slack.wait_for(lambda: slack.responses)
    assert responses[0]["body"]["text"] == "you said whoami"
    assert [m.text for m in slack.ephemerals(CHANNEL, "U0ALICE")] == ["you said whoami"]
    assert seen["command"][0]["command"] == "/aiops" and seen["command"][0]["trigger_id"]

    client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
    msg = await client.chat_postMessage(channel=CHANNEL, text="answer")
    clicked = await sender.click("U0ALICE", CHANNEL, msg["ts"], action_id="feedback", value="negative")
    assert clicked.status == 200
    action = seen["action"][0]["actions"][0]
    assert action["type"] == "feedback_buttons" and action["value"] == "negative"
    assert seen["action"][0]["message"]["text"] == "answer"
    form = parse_qs(f"payload={json.dumps(clicked.payload)}")
    assert json.loads(form["payload"][0])["type"] == "block_actions"
