"""Recording clicks on the feedback buttons under an answer.

The button values are `good:<audit_id>` / `bad:<audit_id>` (see `render.feedback_block`), so a
click ties straight to the answer's `query` audit event. Wiring: the Bolt app registers
`app.action(FEEDBACK_ACTION_ID)` → ack() → `parse_feedback(body)` → `record_feedback(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import asyncpg

from app.slack.render import FEEDBACK_ACTION_ID

Rating = Literal["good", "bad"]

_INSERT = """
INSERT INTO feedback (audit_id, slack_user_id, team_id, channel_id, message_ts, rating)
VALUES ($1, $2, $3, $4, $5, $6)
"""


@dataclass(frozen=True)
class FeedbackClick:
    audit_id: UUID
    rating: Rating
    slack_user_id: str
    team_id: str | None
    channel_id: str | None
    message_ts: str | None


def parse_feedback(payload: dict[str, Any]) -> FeedbackClick | None:
    """A `block_actions` payload → the click, or None when it is not one of our feedback buttons
    (or is malformed: the values are checked, never trusted)."""
    if payload.get("type") != "block_actions":
        return None
    user = (payload.get("user") or {}).get("id")
    if not isinstance(user, str) or not user:
        return None
    for action in payload.get("actions") or []:
        if not isinstance(action, dict) or action.get("action_id") != FEEDBACK_ACTION_ID:
            continue
        rating, _, raw_id = str(action.get("value") or "").partition(":")
        if rating not in ("good", "bad"):
            return None
        try:
            audit_id = UUID(raw_id)
        except ValueError:
            return None
        container = payload.get("container") or {}
        channel = (payload.get("channel") or {}).get("id") or container.get("channel_id")
        message_ts = container.get("message_ts") or (payload.get("message") or {}).get("ts")
        team = (payload.get("team") or {}).get("id")
        return FeedbackClick(
            audit_id=audit_id,
            rating=rating,  # type: ignore[arg-type]
            slack_user_id=user,
            team_id=str(team) if team else None,
            channel_id=str(channel) if channel else None,
            message_ts=str(message_ts) if message_ts else None,
        )
    return None


async def record_feedback(*, pool: asyncpg.Pool, click: FeedbackClick) -> None:
    await pool.execute(
        _INSERT, click.audit_id, click.slack_user_id, click.team_id, click.channel_id, click.message_ts,
        click.rating,
    )
