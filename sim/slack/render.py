"""A channel as a person reads it in Slack, as plain text (for `aiops demo` and test failures).

Roots in order, thread replies indented under them, edits applied, streamed text joined,
files and reactions listed, ephemerals left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sim.slack.model import JSON, SlackMessage

if TYPE_CHECKING:
    from sim.slack.workspace import Workspace

REPLY_PREFIX = "    ↳ "


def render_conversation(ws: Workspace, channel: str) -> str:
    lines = [f"#{ws.channel_names.get(channel, channel)}"]
    for root in ws.root_messages(channel):
        lines.extend(_message(ws, root, indent=""))
        for reply in ws.replies_in_thread(channel, root.ts):
            lines.extend(_message(ws, reply, indent=REPLY_PREFIX))
    return "\n".join(lines)


def _message(ws: Workspace, msg: SlackMessage, *, indent: str) -> list[str]:
    when = datetime.fromtimestamp(float(msg.ts), UTC).strftime("%H:%M:%S")
    who = ws.users[msg.user].name if msg.user in ws.users else (msg.user or "?")
    flags = (" (edited)" if msg.edits else "") + (" (streaming…)" if msg.streaming else "")
    pad = " " * len(indent)
    text_lines = message_body(msg).splitlines() or [""]
    out = [f"{indent}[{when}] {who}{flags}: {text_lines[0]}"]
    out.extend(f"{pad}  {line}" for line in text_lines[1:])
    out.extend(f"{pad}  [file] {f.title or f.name} ({len(f.content or b'')} bytes)" for f in msg.files)
    if msg.reactions:
        out.append(pad + "  " + " ".join(f":{name}: {len(u)}" for name, u in msg.reactions.items()))
    return out


def message_body(msg: SlackMessage) -> str:
    """What the message shows: its text (or, without text, its blocks), then the blocks under it
    (sections such as findings, further markdown, the footer and feedback buttons) — the markdown
    block that repeats the text is shown once."""
    body = msg.text or blocks_text(msg.blocks)
    if msg.text and msg.blocks:
        head = msg.text.rstrip("…")
        under = [b for b in msg.blocks
                 if b.get("type") != "markdown" or not str(b.get("text", "")).startswith(head)]
        extra = blocks_text(under)
        body = f"{body}\n{extra}" if extra else body
    return body


def blocks_text(blocks: list[JSON]) -> str:
    """Roughly what Slack shows for blocks: section/markdown/context text and button labels."""
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind in ("section", "header") and isinstance(b.get("text"), dict):
            text = str(b["text"].get("text", ""))
            out.append(f"*{text}*" if kind == "header" else text)
        elif kind == "markdown":
            out.append(str(b.get("text", "")))
        elif kind == "context":
            out.append(" · ".join(str(e.get("text", "")) for e in b.get("elements", []) if "text" in e))
        elif kind == "image":
            out.append(f"[image] {b.get('alt_text', '')}")
        elif kind in ("actions", "context_actions"):
            out.append(" ".join(f"[{label}]" for label in _labels(b.get("elements", []))))
        elif kind == "rich_text":
            out.append(_rich_text(b))
    return "\n".join(x for x in out if x)


def _labels(elements: list[JSON]) -> list[str]:
    labels: list[str] = []
    for e in elements:
        if e.get("type") == "feedback_buttons":
            labels += [str(e.get(k, {}).get("text", {}).get("text", ""))
                       for k in ("positive_button", "negative_button")]
        elif isinstance(e.get("text"), dict):
            labels.append(str(e["text"].get("text", "")))
    return labels


def _rich_text(node: JSON) -> str:
    if isinstance(node.get("text"), str):
        return str(node["text"])
    return "".join(_rich_text(e) for e in node.get("elements", []) if isinstance(e, dict))
