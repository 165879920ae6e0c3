"""The running app on an OpenAI-compatible model (AIOPS_LLM_PROVIDER=openai): a signed @mention is
answered through the same queue, identity, router and audit as with Anthropic, the key comes from
the `openai_api_key` secret file, tool data reaches the model inside the same data tags, and the
Anthropic API is never called."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sim.anthropic import SimReply
from sim.openai import OpenAISim
from tests.scenario.conftest import ALICE, CHANNEL, HarnessFactory, audit_ref, visible


@pytest.fixture
async def openai_sim() -> AsyncIterator[OpenAISim]:
    async with OpenAISim() as sim:
        yield sim


async def test_mention_answered_by_openai_compatible_model_with_audit(
    make_harness: HarnessFactory, openai_sim: OpenAISim, scenario_env: dict[str, str]
) -> None:
    (Path(scenario_env["AIOPS_SECRETS_DIR"]) / "openai_api_key").write_text(openai_sim.api_key + "\n")
    openai_sim.script(
        [
            SimReply(
                text="Checking runbooks.", tool_uses=[("runbook_search", {"query": "shop firing alerts"})]
            ),
            SimReply(text="Nothing is firing in shop right now."),
        ]
    )
    h = await make_harness(
        env={
            "AIOPS_LLM_PROVIDER": "openai",
            "OPENAI_BASE_URL": openai_sim.v1_url,
            "AIOPS_MODEL": "qwen3-32b",
        }
    )
    sent = await h.sender.mention(ALICE, CHANNEL, "anything firing in shop?")
    answer = await h.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]

    assert "Nothing is firing in shop right now." in visible(answer)
    assert not h.anthropic.requests and len(openai_sim.requests) == 2
    first, second = openai_sim.requests
    assert first["model"] == "qwen3-32b" and first["stream"] is True
    assert {t["function"]["name"] for t in first["tools"]} == {"runbook_search"}  # what this harness has
    tool_msg = next(m for m in second["messages"] if m["role"] == "tool")
    assert tool_msg["content"].count("<tool_result") == 1  # same untrusted-data wrapping
    row = await h.wait_audit_row(audit_ref(answer))
    assert row["event_type"] == "query" and row["user_id"] == "kc-alice" and row["token_count"] > 0
    calls = await h.audit_rows("tool_call", session_id=row["session_id"])
    assert len(calls) == 1 and "runbook_search" in str(calls[0]["tool_calls"])
    assert openai_sim.api_key not in visible(answer)


async def test_openai_provider_without_its_key_runs_offline_and_says_so(
    make_harness: HarnessFactory, openai_sim: OpenAISim
) -> None:
    h = await make_harness(env={"AIOPS_LLM_PROVIDER": "openai", "OPENAI_BASE_URL": openai_sim.v1_url})
    sent = await h.sender.mention(ALICE, CHANNEL, "is checkout ok?")
    answer = await h.wait_answer(CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]
    assert "Offline mode" in visible(answer)
    assert not openai_sim.requests and not h.anthropic.requests
