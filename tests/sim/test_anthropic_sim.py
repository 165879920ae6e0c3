"""The Anthropic simulator, driven by the real `anthropic` SDK."""

from __future__ import annotations

import asyncio

import anthropic
import pytest
from anthropic import AsyncAnthropic

from sim.anthropic import AnthropicSim, SimReply


@pytest.fixture
async def sim():
    async with AnthropicSim() as s:
        yield s


_clients: list[AsyncAnthropic] = []


@pytest.fixture(autouse=True)
async def _close_clients():
    yield
    while _clients:
        await _clients.pop().close()


def client_for(sim: AnthropicSim, **kw) -> AsyncAnthropic:
    c = AsyncAnthropic(base_url=sim.base_url, api_key=sim.api_key, max_retries=0, **kw)
    _clients.append(c)
    return c


async def test_default_reply_quotes_last_user_message(sim):
    c = client_for(sim)
    msg = await c.messages.create(
        model="claude-test", max_tokens=200, messages=[{"role": "user", "content": "why is checkout down?"}]
    )
    assert msg.type == "message" and msg.role == "assistant" and msg.stop_reason == "end_turn"
    assert "why is checkout down?" in msg.content[0].text
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0
    assert sim.requests[0]["messages"][0]["content"] == "why is checkout down?"


async def test_tool_use_non_streaming(sim):
    sim.script(
        [
            SimReply(
                text="Let me look.",
                tool_uses=[("k8s_list", {"kind": "pods", "namespace": "shop"}), ("prometheus_alerts", {})],
            )
        ]
    )
    c = client_for(sim)
    msg = await c.messages.create(
        model="m",
        max_tokens=100,
        messages=[{"role": "user", "content": "hi"}],
        tools=[{"name": "k8s_list", "description": "d", "input_schema": {"type": "object"}}],
    )
    assert msg.stop_reason == "tool_use"
    uses = [b for b in msg.content if b.type == "tool_use"]
    assert [(u.name, u.input) for u in uses] == [
        ("k8s_list", {"kind": "pods", "namespace": "shop"}),
        ("prometheus_alerts", {}),
    ]
    assert len({u.id for u in uses}) == 2
    assert sim.requests[0]["tools"][0]["name"] == "k8s_list"


async def test_streaming_text_and_tool_use(sim):
    text = "The checkout pods are crash-looping because of an OOM kill. " * 3
    sim.script([SimReply(text=text, tool_uses=[("analyze", {"namespace": "shop"})], chunk_chars=7)])
    c = client_for(sim)
    deltas: list[str] = []
    async with c.messages.stream(
        model="m", max_tokens=1000, messages=[{"role": "user", "content": "q"}]
    ) as stream:
        async for t in stream.text_stream:
            deltas.append(t)
        final = await stream.get_final_message()
    assert len(deltas) > 5 and "".join(deltas) == text
    assert final.stop_reason == "tool_use"
    assert final.content[1].type == "tool_use" and final.content[1].input == {"namespace": "shop"}
    assert final.usage.output_tokens > 1 and final.usage.input_tokens > 0


async def test_handler_sync_and_async(sim):
    sim.handler = lambda body: {"text": f"n={len(body['messages'])}"}
    c = client_for(sim)
    m = await c.messages.create(model="m", max_tokens=200, messages=[{"role": "user", "content": "x"}])
    assert m.content[0].text == "n=1"

    async def ah(body):
        return SimReply(text="async")

    sim.handler = ah
    m = await c.messages.create(model="m", max_tokens=200, messages=[{"role": "user", "content": "x"}])
    assert m.content[0].text == "async"


async def test_max_tokens_cut(sim):
    sim.script([SimReply(text="x" * 400)])
    c = client_for(sim)
    m = await c.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert m.stop_reason == "max_tokens" and len(m.content[0].text) == 40


@pytest.mark.parametrize(
    ("status", "exc"),
    [(529, anthropic.OverloadedError), (429, anthropic.RateLimitError), (500, anthropic.InternalServerError)],
)
async def test_errors_map_to_sdk_exceptions(sim, status, exc):
    sim.fail_next(status, times=1, retry_after=3)
    c = client_for(sim)
    with pytest.raises(exc) as info:
        await c.messages.create(model="m", max_tokens=200, messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == status
    assert info.value.response.headers["retry-after"] == "3"
    # next request succeeds
    m = await c.messages.create(model="m", max_tokens=200, messages=[{"role": "user", "content": "x"}])
    assert m.stop_reason == "end_turn"


async def test_error_on_stream(sim):
    sim.fail_next(529)
    c = client_for(sim)
    with pytest.raises(anthropic.OverloadedError):
        async with c.messages.stream(
            model="m", max_tokens=200, messages=[{"role": "user", "content": "x"}]
        ) as s:
            await s.get_final_message()


async def test_bad_api_key_is_authentication_error(sim):
    c = AsyncAnthropic(base_url=sim.base_url, api_key="wrong", max_retries=0)
    _clients.append(c)
    with pytest.raises(anthropic.AuthenticationError):
        await c.messages.create(model="m", max_tokens=200, messages=[{"role": "user", "content": "x"}])
    assert sim.requests == []


async def test_hang_until_timeout_then_release(sim):
    sim.hang_next(1)
    c = client_for(sim, timeout=0.3)
    with pytest.raises(anthropic.APITimeoutError):
        await c.messages.create(model="m", max_tokens=200, messages=[{"role": "user", "content": "x"}])
    sim.hang_next(1)
    c2 = client_for(sim)
    task = asyncio.create_task(
        c2.messages.create(model="m", max_tokens=200, messages=[{"role": "user", "content": "y"}])
    )
    await sim.wait_requests(2)
    assert not task.done()
    sim.release()
    m = await task
    assert "y" in m.content[0].text


async def test_prompt_cache_second_request_reads_prefix(sim):
    tools = [
        {
            "name": "k8s_list",
            "description": "list " * 200,
            "input_schema": {"type": "object"},
            "cache_control": {"type": "ephemeral"},
        }
    ]
    system = [{"type": "text", "text": "You are aiops. " * 200, "cache_control": {"type": "ephemeral"}}]
    c = client_for(sim)
    first = await c.messages.create(
        model="m",
        max_tokens=50,
        tools=tools,
        system=system,
        messages=[{"role": "user", "content": "first question"}],
    )
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation_input_tokens > 500
    follow = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": first.content[0].text},
        {"role": "user", "content": "and the second?"},
    ]
    second = await c.messages.create(model="m", max_tokens=50, tools=tools, system=system, messages=follow)
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    assert "and the second?" in second.content[0].text
    # changing the system prompt invalidates the cache
    system2 = [{"type": "text", "text": "Different. " * 200, "cache_control": {"type": "ephemeral"}}]
    third = await c.messages.create(model="m", max_tokens=50, tools=tools, system=system2, messages=follow)
    assert 0 < third.usage.cache_read_input_tokens < second.usage.cache_read_input_tokens


async def test_moving_breakpoint_reads_previous_turns_from_cache(sim):
    """Like the API: a lookup also checks block boundaries before the breakpoint, so the
    previous request's prefix (breakpoint on its last message) is read when the breakpoint moves."""
    c = client_for(sim)
    first_msgs = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "q " * 400, "cache_control": {"type": "ephemeral"}}],
        }
    ]
    first = await c.messages.create(model="m", max_tokens=50, messages=first_msgs)
    assert first.usage.cache_creation_input_tokens > 0
    second_msgs = [
        {"role": "user", "content": [{"type": "text", "text": "q " * 400}]},
        {"role": "assistant", "content": "a " * 100},
        {
            "role": "user",
            "content": [{"type": "text", "text": "more", "cache_control": {"type": "ephemeral"}}],
        },
    ]
    second = await c.messages.create(model="m", max_tokens=50, messages=second_msgs)
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert 0 < second.usage.cache_creation_input_tokens < first.usage.cache_creation_input_tokens


async def test_mid_stream_error_event(sim):
    sim.fail_stream_next("overloaded_error")
    c = client_for(sim)
    with pytest.raises(anthropic.APIStatusError) as info:
        async with c.messages.stream(
            model="m", max_tokens=200, messages=[{"role": "user", "content": "x"}]
        ) as s:
            await s.get_final_message()
    assert info.value.body["error"]["type"] == "overloaded_error"
