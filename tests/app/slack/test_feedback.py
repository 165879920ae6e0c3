"""A click on the feedback buttons of a rendered answer ends up as a feedback row."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from app.agent.base import AgentAnswer
from app.slack.feedback import parse_feedback, record_feedback
from app.slack.render import render_answer


def click_payload(button: dict, *, action_id: str, user: str = "U1") -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "alice", "team_id": "T0SIM"},
        "team": {"id": "T0SIM"},
        "channel": {"id": "C1"},
        "container": {"type": "message", "message_ts": "171.000200", "channel_id": "C1"},
        "actions": [
            {
                "type": "feedback_buttons",
                "action_id": action_id,
                "block_id": "b1",
                "value": button["value"],
                "text": button["text"],
                "action_ts": "171.5",
            }
        ],
    }


@pytest.mark.parametrize(("which", "rating"), [("positive_button", "good"), ("negative_button", "bad")])
async def test_click_on_rendered_buttons_is_recorded(pg_pool: asyncpg.Pool, which, rating):
    audit_id = uuid.uuid4()
    msg = render_answer(AgentAnswer(text="answer"), audit_id)[-1]
    element = next(b for b in msg.blocks if b["type"] == "context_actions")["elements"][0]
    click = parse_feedback(click_payload(element[which], action_id=element["action_id"]))
    assert click is not None
    await record_feedback(pool=pg_pool, click=click)
    rows = await pg_pool.fetch("SELECT * FROM feedback WHERE audit_id = $1", audit_id)
    assert [(r["rating"], r["slack_user_id"], r["channel_id"], r["message_ts"]) for r in rows] == [
        (rating, "U1", "C1", "171.000200")
    ]


@pytest.mark.parametrize("value", ["great:" + str(uuid.uuid4()), "good:not-a-uuid", "", "good:"])
async def test_malformed_values_are_ignored(value):
    payload = click_payload({"value": value, "text": {}}, action_id="aiops_feedback")
    assert parse_feedback(payload) is None


async def test_other_actions_are_not_feedback():
    payload = click_payload({"value": f"good:{uuid.uuid4()}", "text": {}}, action_id="something_else")
    assert parse_feedback(payload) is None


async def test_feedback_rows_are_append_only(pg_pool: asyncpg.Pool):
    audit_id = uuid.uuid4()
    payload = click_payload({"value": f"good:{audit_id}", "text": {}}, action_id="aiops_feedback")
    click = parse_feedback(payload)
    assert click is not None
    await record_feedback(pool=pg_pool, click=click)
    with pytest.raises(asyncpg.RaiseError):
        await pg_pool.execute("UPDATE feedback SET rating = 'bad' WHERE audit_id = $1", audit_id)
    with pytest.raises(asyncpg.RaiseError):
        await pg_pool.execute("DELETE FROM feedback WHERE audit_id = $1", audit_id)
