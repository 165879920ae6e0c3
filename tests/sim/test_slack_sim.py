"""The Slack simulator through the real slack_sdk AsyncWebClient: what the app will do to it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from sim.slack import SlackSimulator, SlackUser

CHANNEL = "C0INCIDENT"


@pytest.fixture
async def sim() -> AsyncIterator[SlackSimulator]:
    users = [SlackUser("U0ALICE", "alice", email="alice@example.com"),
             SlackUser("U0BOB", "bob", email="bob@example.com", is_email_confirmed=False)]
    async with SlackSimulator(users=users) as s:
        s.add_channel(CHANNEL, "incidents")
        yield s


@pytest.fixture
def client(sim: SlackSimulator) -> AsyncWebClient:
    return AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)


async def test_base_url_is_slack_api_url_shaped(sim: SlackSimulator, client: AsyncWebClient) -> None:
    assert sim.base_url.startswith("http://127.0.0.1:") and sim.base_url.endswith("/api/")
    auth = await client.auth_test()
    assert auth["user_id"] == sim.bot_user_id and auth["team_id"] == sim.team_id


async def test_post_thread_update_and_replies(sim: SlackSimulator, client: AsyncWebClient) -> None:
    root = sim.post_user_message(CHANNEL, "U0ALICE", "<@U0AIOPS> why is checkout 500ing?")
    first = await client.chat_postMessage(channel=CHANNEL, thread_ts=root.ts, text="_Looking into it…_")
    second = await client.chat_postMessage(channel=CHANNEL, text="top-level note",
                                           blocks=[{"type": "section",
                                                    "text": {"type": "mrkdwn", "text": "top-level note"}}])
    assert float(second["ts"]) > float(first["ts"]) > float(root.ts)  # unique, increasing
    await client.chat_update(channel=CHANNEL, ts=first["ts"], text="checkout pods are OOMKilled")

    # Without channels:history (the manifest grants it since issue 11), reading a channel thread
    # fails like in production.
    sim.scopes = (sim.scopes or frozenset()) - {"channels:history"}
    with pytest.raises(SlackApiError) as err:
        await client.conversations_replies(channel=CHANNEL, ts=root.ts)
    assert err.value.response["error"] == "missing_scope"
    assert err.value.response["needed"] == "channels:history"
    sim.scopes = (sim.scopes or frozenset()) | {"channels:history"}
    replies = await client.conversations_replies(channel=CHANNEL, ts=root.ts)
    texts = [m["text"] for m in replies["messages"]]
    assert texts == ["<@U0AIOPS> why is checkout 500ing?", "checkout pods are OOMKilled"]
    assert replies["messages"][0]["reply_count"] == 1
    assert [m.text for m in sim.bot_replies(CHANNEL, root.ts)] == ["checkout pods are OOMKilled"]
    assert sim.message(CHANNEL, first["ts"]).edits[0]["text"] == "_Looking into it…_"  # type: ignore[union-attr]
    assert [m.ts for m in sim.root_messages(CHANNEL)] == [root.ts, second["ts"]]

    view = sim.render_conversation(CHANNEL)
    lines = view.splitlines()
    assert lines[0] == "#incidents"
    assert "alice: <@U0AIOPS> why is checkout 500ing?" in lines[1]
    assert lines[2].startswith("    ↳ ") and "aiops (edited): checkout pods are OOMKilled" in lines[2]
    assert "Looking into it" not in view
    assert "top-level note" in lines[3] and not lines[3].startswith(" ")


async def test_update_of_a_human_message_or_unknown_ts_fails(sim: SlackSimulator,
                                                             client: AsyncWebClient) -> None:
    root = sim.post_user_message(CHANNEL, "U0ALICE", "hello")
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=CHANNEL, ts=root.ts, text="hijacked")
    assert err.value.response["error"] == "cant_update_message"
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=CHANNEL, ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"
    assert sim.message(CHANNEL, root.ts).text == "hello"  # type: ignore[union-attr]


async def test_wrong_token_and_unknown_method(sim: SlackSimulator) -> None:
    bad = AsyncWebClient(base_url=sim.base_url, token="xoxb-wrong")
    with pytest.raises(SlackApiError) as err:
        await bad.chat_postMessage(channel=CHANNEL, text="hi")
    assert err.value.response["error"] == "invalid_auth"
    assert sim.messages(CHANNEL) == []
    good = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
    with pytest.raises(SlackApiError) as err:
        await good.api_call("chat.teleport", json={"channel": CHANNEL})
    assert err.value.response["error"] == "unknown_method"
    assert [c.error for c in sim.calls] == ["invalid_auth", "unknown_method"]


async def test_limits_like_slack(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=CHANNEL, text="x",
                                      blocks=[{"type": "divider"}] * 51)
    assert err.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError) as err, pytest.warns(UserWarning):
        await client.chat_postMessage(channel=CHANNEL, text="")
    assert err.value.response["error"] == "no_text"


async def test_files_upload_v2_lands_in_the_thread(sim: SlackSimulator, client: AsyncWebClient) -> None:
    root = sim.post_user_message(CHANNEL, "U0ALICE", "graph please")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    resp = await client.files_upload_v2(channel=CHANNEL, thread_ts=root.ts, content=png,
                                        filename="latency.png", title="p99 latency",
                                        initial_comment="Here is the graph")
    assert resp["file"]["title"] == "p99 latency"
    files = sim.files_in_thread(CHANNEL, root.ts)
    assert [f.content for f in files] == [png]
    reply = sim.bot_replies(CHANNEL, root.ts)[0]
    assert reply.text == "Here is the graph"
    assert "[file] p99 latency (1032 bytes)" in sim.render_conversation(CHANNEL)
    upload_url = sim.calls_to("files.getUploadURLExternal")[0]
    assert upload_url.params["filename"] == "latency.png"


async def test_complete_upload_without_bytes_is_refused(sim: SlackSimulator, client: AsyncWebClient) -> None:
    got = await client.files_getUploadURLExternal(filename="a.txt", length=3)
    with pytest.raises(SlackApiError) as err:
        await client.files_completeUploadExternal(files=[{"id": got["file_id"]}], channel_id=CHANNEL)
    assert err.value.response["error"] == "file_not_found"
    assert sim.messages(CHANNEL) == []


async def test_chat_stream_builds_one_message(sim: SlackSimulator, client: AsyncWebClient) -> None:
    root = sim.post_user_message(CHANNEL, "U0ALICE", "status?")
    streamer = await client.chat_stream(channel=CHANNEL, thread_ts=root.ts, recipient_team_id=sim.team_id,
                                        recipient_user_id="U0ALICE", buffer_size=10)
    parts = ["**Findings**\n", "checkout-7d9 restarted 14 times ", "(OOMKilled).\n", "Raise the limit."]
    for part in parts:
        await streamer.append(markdown_text=part)
    feedback = [{"type": "context_actions", "elements": [{
        "type": "feedback_buttons", "action_id": "feedback",
        "positive_button": {"text": {"type": "plain_text", "text": "Good"}, "value": "positive"},
        "negative_button": {"text": {"type": "plain_text", "text": "Bad"}, "value": "negative"}}]}]
    await streamer.stop(blocks=feedback)

    replies = sim.bot_replies(CHANNEL, root.ts)
    assert len(replies) == 1
    assert replies[0].text == "".join(parts) and not replies[0].streaming
    assert replies[0].ts == streamer.ts
    assert len(sim.calls_to("chat.appendStream")) >= 1
    view = sim.render_conversation(CHANNEL)
    assert "Raise the limit." in view and "[Good] [Bad]" in view
    with pytest.raises(SlackApiError) as err:
        await client.chat_appendStream(channel=CHANNEL, ts=replies[0].ts, markdown_text="late")
    assert err.value.response["error"] == "message_not_in_streaming_state"


async def test_stream_without_recipient_is_refused(client: AsyncWebClient, sim: SlackSimulator) -> None:
    root = sim.post_user_message(CHANNEL, "U0ALICE", "status?")
    with pytest.raises(SlackApiError) as err:
        await client.chat_startStream(channel=CHANNEL, thread_ts=root.ts, markdown_text="hi")
    assert err.value.response["error"] == "missing_recipient_team_id"


async def test_429_retry_after_is_honoured_by_slack_sdk(sim: SlackSimulator) -> None:
    sim.fail_next("chat.postMessage", status=429, retry_after=1)
    plain = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
    with pytest.raises(SlackApiError) as err:
        await plain.chat_postMessage(channel=CHANNEL, text="first")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    assert err.value.response["error"] == "ratelimited"

    sim.fail_next("chat.postMessage", status=429, retry_after=1)
    retrying = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token,
                              retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
    resp = await retrying.chat_postMessage(channel=CHANNEL, text="second")
    assert resp["ok"]
    statuses = [c.status for c in sim.calls_to("chat.postMessage")]
    assert statuses == [429, 429, 200]
    gap = sim.calls_to("chat.postMessage")[2].at - sim.calls_to("chat.postMessage")[1].at
    assert gap >= 1.0  # the client waited as told rather than hammering
    assert [m.text for m in sim.messages(CHANNEL)] == ["second"]


async def test_5xx_and_api_errors_can_be_injected(sim: SlackSimulator) -> None:
    sim.fail_next("chat.update", status=200, error="channel_not_found")
    sim.fail_next("chat.postMessage", status=503)
    client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token,
                            retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)])
    posted = await client.chat_postMessage(channel=CHANNEL, text="after a 503")
    assert [c.status for c in sim.calls_to("chat.postMessage")] == [503, 200]
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x")
    assert err.value.response["error"] == "channel_not_found"
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="y")  # only the next call failed
    assert sim.message(CHANNEL, posted["ts"]).text == "y"  # type: ignore[union-attr]


async def test_ratelimit_per_second(sim: SlackSimulator, client: AsyncWebClient) -> None:
    sim.ratelimit("chat.postMessage", per_second=1)
    await client.chat_postMessage(channel=CHANNEL, text="one")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=CHANNEL, text="two")
    assert err.value.response.status_code == 429


async def test_users_info_status_ephemeral(sim: SlackSimulator, client: AsyncWebClient) -> None:
    alice = await client.users_info(user="U0ALICE")
    assert alice["user"]["profile"]["email"] == "alice@example.com"
    assert alice["user"]["is_email_confirmed"] is True
    bob = await client.users_info(user="U0BOB")
    assert bob["user"]["is_email_confirmed"] is False
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U0NOBODY")
    assert err.value.response["error"] == "user_not_found"

    root = sim.post_user_message(CHANNEL, "U0ALICE", "hi")
    await client.assistant_threads_setStatus(channel_id=CHANNEL, thread_ts=root.ts,
                                             status="Querying Prometheus…")
    assert sim.statuses == [{"channel_id": CHANNEL, "thread_ts": root.ts, "status": "Querying Prometheus…"}]
    await client.chat_postEphemeral(channel=CHANNEL, user="U0ALICE", text="only you can see this")
    assert [m.text for m in sim.ephemerals(CHANNEL, "U0ALICE")] == ["only you can see this"]
    assert "only you" not in sim.render_conversation(CHANNEL)


async def test_wait_for_sees_changes_and_times_out(sim: SlackSimulator, client: AsyncWebClient) -> None:
    import asyncio

    async def later() -> None:
        await client.chat_postMessage(channel=CHANNEL, text="eventually")

    task = asyncio.create_task(later())
    msgs = await sim.wait_for(lambda: sim.messages(CHANNEL), timeout=5)
    assert msgs[0].text == "eventually"
    await task
    with pytest.raises(SlackApiError):
        await client.chat_update(channel=CHANNEL, ts="1.000001", text="x")
    # A timeout names what was awaited and which Web API calls the app got wrong.
    with pytest.raises(TimeoutError, match=r"nothing here.*chat\.update→message_not_found"):
        await sim.wait_for(lambda: sim.messages("C0EMPTY"), timeout=0.2, what="nothing here")


async def test_scopes_come_from_the_manifest(sim: SlackSimulator, client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    granted = set(resp.headers["X-OAuth-Scopes"].split(","))
    assert {"chat:write", "files:write", "users:read.email"} <= granted
    root = sim.post_user_message(CHANNEL, "U0ALICE", "hi")
    with pytest.raises(SlackApiError) as err:  # reactions:write is not in manifest.yaml
        await client.reactions_add(channel=CHANNEL, timestamp=root.ts, name="eyes")
    assert err.value.response["error"] == "missing_scope"
    assert sim.message(CHANNEL, root.ts).reactions == {}  # type: ignore[union-attr]


async def test_email_needs_users_read_email() -> None:
    async with SlackSimulator(users=[SlackUser("U0ALICE", "alice", email="alice@example.com")],
                              scopes={"users:read"}) as sim:
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        alice = await client.users_info(user="U0ALICE")
        assert "email" not in alice["user"]["profile"]


async def test_posting_to_a_user_id_lands_in_the_dm(sim: SlackSimulator, client: AsyncWebClient) -> None:
    resp = await client.chat_postMessage(channel="U0ALICE", text="your login link")
    assert resp["channel"].startswith("D")
    assert [m.text for m in sim.messages(resp["channel"])] == ["your login link"]
    link = await client.chat_getPermalink(channel=resp["channel"], message_ts=resp["ts"])
    assert resp["ts"].replace(".", "") in link["permalink"]


async def test_all_scopes_mode_allows_reactions() -> None:
    async with SlackSimulator(scopes="all") as sim:
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        root = sim.post_user_message(CHANNEL, "U0ALICE", "hi")
        await client.reactions_add(channel=CHANNEL, timestamp=root.ts, name="eyes")
        assert ":eyes: 1" in sim.render_conversation(CHANNEL)


async def _open_stream(sim: SlackSimulator, client: AsyncWebClient, **kw: object) -> str:
    root = sim.post_user_message(CHANNEL, "U0ALICE", "status?")
    resp = await client.chat_startStream(channel=CHANNEL, thread_ts=root.ts, recipient_team_id=sim.team_id,
                                         recipient_user_id="U0ALICE", **kw)  # type: ignore[arg-type]
    return str(resp["ts"])


async def test_a_streaming_message_cannot_be_edited(sim: SlackSimulator, client: AsyncWebClient) -> None:
    ts = await _open_stream(sim, client, markdown_text="Looking")
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=CHANNEL, ts=ts, text="replaced")
    assert err.value.response["error"] == "streaming_state_conflict"
    await client.chat_appendStream(channel=CHANNEL, ts=ts, markdown_text=" into it")
    await client.chat_stopStream(channel=CHANNEL, ts=ts)
    await client.chat_update(channel=CHANNEL, ts=ts, text="final")  # allowed once stopped
    assert sim.message(CHANNEL, ts).text == "final"  # type: ignore[union-attr]
    assert sim.message(CHANNEL, ts).edits == [{"text": "Looking into it", "blocks": []}]  # type: ignore[union-attr]


async def test_a_stream_keeps_the_shape_it_opened_with(sim: SlackSimulator, client: AsyncWebClient) -> None:
    ts = await _open_stream(sim, client, markdown_text="text mode")
    with pytest.raises(SlackApiError) as err:
        await client.chat_appendStream(channel=CHANNEL, ts=ts,
                                       chunks=[{"type": "markdown_text", "text": "chunk"}])
    assert err.value.response["error"] == "streaming_mode_mismatch"
    assert sim.message(CHANNEL, ts).text == "text mode"  # type: ignore[union-attr]


async def test_stream_stopped_by_user_or_expired(client: AsyncWebClient, sim: SlackSimulator) -> None:
    ts = await _open_stream(sim, client, markdown_text="a")
    sim.stop_stream_by_user(CHANNEL, ts)
    with pytest.raises(SlackApiError) as err:
        await client.chat_appendStream(channel=CHANNEL, ts=ts, markdown_text="b")
    assert err.value.response["error"] == "stopped_by_user"

    sim.stream_lifetime = -1.0  # every stream is already past Slack's lifetime
    ts2 = await _open_stream(sim, client, markdown_text="a")
    with pytest.raises(SlackApiError) as err:
        await client.chat_stopStream(channel=CHANNEL, ts=ts2, markdown_text="b")
    assert err.value.response["error"] == "message_not_in_streaming_state"


async def test_markdown_over_12000_chars_is_refused(sim: SlackSimulator, client: AsyncWebClient) -> None:
    ts = await _open_stream(sim, client, markdown_text="a")
    with pytest.raises(SlackApiError) as err:
        await client.chat_appendStream(channel=CHANNEL, ts=ts, markdown_text="x" * 12_001)
    assert err.value.response["error"] == "msg_too_long"
    await client.chat_appendStream(channel=CHANNEL, ts=ts, markdown_text="x" * 12_000)
    assert len(sim.message(CHANNEL, ts).text) == 12_001  # type: ignore[union-attr]


async def test_form_encoded_bodies_and_token_param_work_like_json(sim: SlackSimulator) -> None:
    import aiohttp

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*form*"}}]
    no_header = AsyncWebClient(base_url=sim.base_url)  # token travels in the form body instead
    resp = await no_header.api_call("chat.postMessage", data={
        "token": sim.bot_token, "channel": CHANNEL, "text": "form", "blocks": json.dumps(blocks)})
    assert sim.message(CHANNEL, resp["ts"]).blocks == blocks  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as s, s.post(
        sim.base_url + "chat.postMessage", data={"token": sim.bot_token, "channel": CHANNEL,
                                                 "text": "x", "blocks": "[not json"}) as r:
        assert (await r.json())["error"] == "invalid_blocks_format"
    async with aiohttp.ClientSession() as s, s.post(sim.base_url + "auth.test") as r:
        assert (await r.json()) == {"ok": False, "error": "not_authed"}


_one_line = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
_texts = st.text(alphabet=_one_line, min_size=1, max_size=20)
_ops = st.lists(st.one_of(
    st.tuples(st.just("root"), st.integers(0, 0), _texts),
    st.tuples(st.just("reply"), st.integers(0, 30), _texts),
    st.tuples(st.just("update"), st.integers(0, 30), _texts),
), max_size=40)


@settings(max_examples=60, deadline=None)
@given(ops=_ops)
def test_threads_and_edits_stay_consistent(ops: list[tuple[str, int, str]]) -> None:
    """Any mix of posts, replies and edits: ts unique and increasing, every reply under its root,
    conversations.replies == the model, the rendering shows each message's latest text once."""
    sim = SlackSimulator(scopes="all")
    roots: list[str] = []
    posted: list[str] = []
    latest: dict[str, str] = {}
    for op, idx, text in ops:
        if op == "root" or not roots:
            ts = sim.dispatch("chat.postMessage", {"channel": CHANNEL, "text": text})["ts"]
            roots.append(ts)
        elif op == "reply":
            parent = roots[idx % len(roots)]
            reply = {"channel": CHANNEL, "text": text, "thread_ts": parent}
            ts = sim.dispatch("chat.postMessage", reply)["ts"]
        else:
            ts = posted[idx % len(posted)]
            sim.dispatch("chat.update", {"channel": CHANNEL, "ts": ts, "text": text})
        if ts not in latest:
            posted.append(ts)
        latest[ts] = text
    assert posted == sorted(posted, key=float) and len(set(posted)) == len(posted)
    view = sim.render_conversation(CHANNEL).splitlines()[1:]
    assert len(view) == len(posted)
    for root in roots:
        thread = sim.dispatch("conversations.replies", {"channel": CHANNEL, "ts": root})["messages"]
        assert [m["ts"] for m in thread] == [root] + [m.ts for m in sim.replies_in_thread(CHANNEL, root)]
        assert [m["text"] for m in thread] == [latest[m["ts"]] for m in thread]
    for line, ts in zip(view, [m.ts for r in sim.root_messages(CHANNEL)
                               for m in [r, *sim.replies_in_thread(CHANNEL, r.ts)]], strict=True):
        assert line.endswith(": " + latest[ts])
