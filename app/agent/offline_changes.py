"""Offline mode's "What changed" section for alert triage: the newest `k8s_changes` items of the
alert's namespace, laid out as Slack text (untrusted names made unable to form markup), first
in the answer — the same lead the model is told to give when a change explains the alert."""

from __future__ import annotations

from typing import Any

from app.agent.offline_format import slack_safe

WINDOW_HOURS = 2
WINDOW = f"{WINDOW_HOURS}h"
MAX_CHANGES = 8
TITLE = f"*What changed (newest first, last {WINDOW_HOURS} hours)*"


def change_line(item: dict[str, Any]) -> str:
    where = f"{item.get('namespace')}/{item.get('name')}" if item.get("namespace") else str(item.get("name"))
    extra = [
        f"{d.get('container')}: {d.get('from') or '(none)'} → {d.get('to') or '(removed)'}"
        for d in item.get("image_changes") or []
        if isinstance(d, dict)
    ]
    if item.get("reason"):
        extra.append(f"reason {item['reason']}")
    if item.get("by"):
        extra.append(f"by {item['by']}")
    tail = f" ({slack_safe('; '.join(extra), 400)})" if extra else ""
    return (
        f"• {slack_safe(item.get('time'), 30)} {slack_safe(item.get('kind'), 40)} {slack_safe(where, 160)}"
        f" — {slack_safe(item.get('change'), 20)}: {slack_safe(item.get('detail'), 200)}{tail}"
    )


def changes_section(items: list[Any]) -> str | None:
    """None when nothing changed (the rest of the answer speaks for itself)."""
    shown = [i for i in items if isinstance(i, dict)][:MAX_CHANGES]
    if not shown:
        return None
    more = len(items) - len(shown)
    lines = [TITLE, *(change_line(i) for i in shown)]
    if more > 0:
        lines.append(f"…and {more} more")
    return "\n".join(lines)
