from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from app.agent.model import AnthropicModel, ModelClient
from app.agent.openai_model import OpenAIModel
from kernel.metrics import Metrics
from sim.anthropic import AnthropicSim
from sim.openai import OpenAISim
from tests.fixtures.kubernetes import k8s_cluster  # noqa: F401  (shared fixture)
from tests.fixtures.prometheus import prometheus_server, prometheus_url  # noqa: F401  (shared fixtures)


@pytest.fixture
async def anthropic_sim() -> AsyncIterator[AnthropicSim]:
    async with AnthropicSim() as sim:
        yield sim


@pytest.fixture
async def anthropic_client(anthropic_sim: AnthropicSim) -> AsyncIterator[AsyncAnthropic]:
    client = AsyncAnthropic(base_url=anthropic_sim.base_url, api_key=anthropic_sim.api_key)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


class LLM:
    """One provider under test: its simulator, the agent's `ModelClient`, and neutral views of
    the requests the simulator received, so one test body checks both wire formats."""

    def __init__(self, name: str, sim: AnthropicSim | OpenAISim, model: ModelClient) -> None:
        self.name, self.sim, self.model = name, sim, model

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.sim.requests

    def tool_results(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """The results fed back in `request`: [{tool_use_id, content, is_error}]."""
        msgs = request["messages"]
        if self.name == "anthropic":
            return [{"is_error": False, **b} for b in msgs[-1]["content"]
                    if isinstance(b, dict) and b.get("type") == "tool_result"]
        tail = []
        for m in reversed(msgs):
            if m["role"] != "tool":
                if tail:
                    break
                continue
            tail.append({"tool_use_id": m["tool_call_id"], "content": m["content"],
                         "is_error": m["content"].startswith("ERROR: ")})
        return list(reversed(tail))

    def tool_use_ids(self, request: dict[str, Any]) -> set[str]:
        """Ids of the tool calls in the last assistant turn of `request`."""
        last = [m for m in request["messages"] if m["role"] == "assistant"][-1]
        if self.name == "anthropic":
            return {b["id"] for b in last["content"] if b["type"] == "tool_use"}
        return {c["id"] for c in last.get("tool_calls") or []}

    def tools_disabled(self, request: dict[str, Any]) -> bool:
        choice = request.get("tool_choice")
        return choice == ({"type": "none"} if self.name == "anthropic" else "none")

    def user_text(self, request: dict[str, Any]) -> str:
        """All text of the user turns after the last assistant turn."""
        out: list[str] = []
        for m in reversed(request["messages"]):
            if m["role"] == "assistant":
                break
            content = m["content"]
            if m["role"] == "user":
                out.append(content if isinstance(content, str) else " ".join(
                    b.get("text", "") for b in content if b.get("type") == "text"))
        return " ".join(reversed(out))

    def roles(self, request: dict[str, Any]) -> list[str]:
        return [m["role"] for m in request["messages"] if m["role"] != "system"]


@pytest.fixture(params=["anthropic", "openai"])
async def llm(request: pytest.FixtureRequest) -> AsyncIterator[LLM]:
    if request.param == "anthropic":
        async with AnthropicSim() as sim:
            client = AsyncAnthropic(base_url=sim.base_url, api_key=sim.api_key)
            yield LLM("anthropic", sim, AnthropicModel(client))
            await client.close()
    else:
        async with OpenAISim() as osim:
            oclient = AsyncOpenAI(base_url=osim.v1_url, api_key=osim.api_key)
            yield LLM("openai", osim, OpenAIModel(oclient))
            await oclient.close()
