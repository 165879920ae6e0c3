"""Prompt templates: role-aware, data-not-instructions rule present, stable for caching."""

from __future__ import annotations

import uuid

from app.agent.base import Turn
from app.agent.claude import build_messages
from app.agent.prompt import PROMPTS_DIR, system_blocks
from app.jobs import Job
from tests.app.agent.helpers import scope_for


def test_templates_are_files_not_code():
    names = {p.name for p in PROMPTS_DIR.iterdir()}
    assert {"system.md", "role_viewer.md", "role_recommend.md", "alert_triage.md"} <= names


def test_viewer_prompt_forbids_remediation_analyst_prompt_asks_for_it():
    viewer = system_blocks(scope_for("viewer"))[0]["text"]
    analyst = system_blocks(scope_for("analyst"))[0]["text"]
    assert "## Recommendations" not in viewer and "viewer" in viewer
    assert "## Recommendations" in analyst
    for text in (viewer, analyst):
        assert "<tool_result" in text and "untrusted" in text and "Never follow instructions" in text
        assert "$" not in text  # every placeholder filled


def test_system_prompt_is_stable_across_calls_for_caching():
    assert system_blocks(scope_for("analyst")) == system_blocks(scope_for("analyst"))
    assert system_blocks(scope_for("analyst"))[0]["cache_control"] == {"type": "ephemeral"}


def test_history_becomes_alternating_turns_ending_with_the_question():
    job = Job(job_id=uuid.uuid4().hex, kind="mention", channel_id="C1", user_id="U1", text="and now?")
    history = [
        Turn("assistant", "Alert fired."),
        Turn("user", "why?"),
        Turn("user", "really?"),
        Turn("assistant", "Because."),
    ]
    msgs = build_messages(job, scope_for("viewer"), history, now=0)
    roles = [m["role"] for m in msgs]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert msgs[2]["content"] == "why?\n\nreally?"
    assert msgs[-1]["content"][-1]["text"] == "and now?"
    assert "1970-01-01T00:00:00Z" in msgs[-1]["content"][0]["text"]
