"""The Slack simulator's channel membership, Slack Connect flags, conversations.info and the
assistant thread methods behave like Slack's Web API."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sim.slack import SlackSimulator


async def _error(coro: object) -> str:
    with pytest.raises(SlackApiError) as info:
        await coro  # type: ignore[misc]
    return str(info.value.response["error"])


async def test_not_in_channel_unless_chat_write_public() -> None:
    async with SlackSimulator() as sim:
        sim.add_channel("C0OUT", "random", bot_member=False)
        sim.add_channel("G0PRIV", "secret", bot_member=False)
        sim.add_user("U0A", "a")
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        assert await _error(client.chat_postMessage(channel="C0OUT", text="hi")) == "not_in_channel"
        assert (
            await _error(client.chat_postEphemeral(channel="C0OUT", user="U0A", text="hi"))
            == "not_in_channel"
        )
        assert (await client.chat_postMessage(channel="U0A", text="dm"))["ok"]  # DMs always work
    async with SlackSimulator(scopes={"chat:write", "chat:write.public"}) as sim:
        sim.add_channel("C0OUT", "random", bot_member=False)
        sim.add_channel("G0PRIV", "secret", bot_member=False)
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        assert (await client.chat_postMessage(channel="C0OUT", text="hi"))["ok"]
        assert await _error(client.chat_postMessage(channel="G0PRIV", text="hi")) == "not_in_channel"


async def test_conversations_info_needs_read_scopes_and_reports_flags() -> None:
    async with SlackSimulator() as sim:  # the manifest's scopes
        sim.add_channel("C0EXT", "vendor", ext_shared=True)
        sim.add_channel("C0OUT", "random", bot_member=False)
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        ext = (await client.conversations_info(channel="C0EXT"))["channel"]
        assert ext["is_ext_shared"] is True and ext["is_member"] is True
        out = (await client.conversations_info(channel="C0OUT"))["channel"]
        assert out["is_ext_shared"] is False and out["is_member"] is False
        assert await _error(client.conversations_info(channel="C0NOPE")) == "channel_not_found"
    async with SlackSimulator(scopes={"chat:write"}) as sim:
        sim.add_channel("C0EXT", "vendor", ext_shared=True)
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        assert await _error(client.conversations_info(channel="C0EXT")) == "missing_scope"


async def test_assistant_thread_methods_validate_like_slack() -> None:
    async with SlackSimulator() as sim:
        sim.add_channel("D0A")
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        prompts = [{"title": "t", "message": "m"}]
        await client.assistant_threads_setSuggestedPrompts(channel_id="D0A", thread_ts="1.0", prompts=prompts)
        await client.assistant_threads_setTitle(channel_id="D0A", thread_ts="1.0", title="hello")
        assert sim.titles[("D0A", "1.0")] == "hello" and sim.suggested_prompts[0]["prompts"] == prompts
        too_many = prompts * 5
        error = await _error(
            client.assistant_threads_setSuggestedPrompts(channel_id="D0A", thread_ts="1.0", prompts=too_many)
        )
        assert error == "invalid_arguments"
