"""An `AgentAnswer` → Slack messages, within Slack's limits.

Limits (Slack docs): markdown text in one message ≤ 12,000 characters, ≤ 50 blocks. A long
answer is split on paragraph, then line boundaries (a code fence cut in two is closed and
reopened), into several messages; the last one carries the compact evidence line, the feedback
buttons and the audit reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from app.agent.base import AgentAnswer
from app.slack import strings
from app.slack.findings import findings_blocks
from app.slack.neutralize import neutralize

MAX_MARKDOWN = 12_000
MAX_BLOCKS = 50
MARKDOWN_BUDGET = 11_500
"""Per message, leaving room for the trailer blocks' text."""
FALLBACK_TEXT = 3_000
FEEDBACK_ACTION_ID = "aiops_feedback"
MAX_EVIDENCE = 8

JSON = dict[str, Any]
__all__ = ["SlackMessage", "neutralize", "render_answer", "render_failure", "split_markdown"]


@dataclass(frozen=True)
class SlackMessage:
    text: str
    """Notification / fallback text."""
    blocks: list[JSON]


def split_markdown(text: str, limit: int = MARKDOWN_BUDGET) -> list[str]:
    """Split at paragraph/line boundaries into pieces ≤ limit, keeping code fences balanced."""
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        sep = "\n" if current else ""
        if len(current) + len(sep) + len(piece) <= limit:
            current += sep + piece
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return _balance_fences(parts, limit) or [""]


def _pieces(text: str, limit: int) -> list[str]:
    out: list[str] = []
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            out.append(line[:cut])
            line = line[cut:].lstrip(" ")
        out.append(line)
    return out


def _balance_fences(parts: list[str], limit: int) -> list[str]:
    out: list[str] = []
    reopen = False
    for part in parts:
        text = ("```\n" + part) if reopen else part
        open_fence = text.count("```") % 2 == 1
        if open_fence:
            text += "\n```"
        reopen = open_fence
        out.append(text if len(text) <= limit + 8 else text[: limit + 8])
    return out


def feedback_block(audit_id: UUID) -> JSON:
    return {
        "type": "context_actions",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK_ACTION_ID,
                "positive_button": {
                    "text": {"type": "plain_text", "text": strings.FEEDBACK_GOOD},
                    "accessibility_label": strings.FEEDBACK_GOOD_LABEL,
                    "value": f"good:{audit_id}",
                },
                "negative_button": {
                    "text": {"type": "plain_text", "text": strings.FEEDBACK_BAD},
                    "accessibility_label": strings.FEEDBACK_BAD_LABEL,
                    "value": f"bad:{audit_id}",
                },
            }
        ],
    }


def _code(text: str, limit: int = 160) -> str:
    t = " ".join(text.split()).replace("`", "'")
    return "`" + (t if len(t) <= limit else t[: limit - 1] + "…") + "`"


def evidence_block(evidence: list[str], allowed_hosts: Iterable[str] = ()) -> JSON | None:
    """The queries and resources behind the answer, compact (one context block)."""
    if not evidence:
        return None
    shown = [_code(e) for e in evidence[:MAX_EVIDENCE]]
    more = len(evidence) - len(shown)
    text = strings.EVIDENCE_PREFIX + " · ".join(shown)
    if more:
        text += strings.EVIDENCE_MORE.format(n=more)
    text = neutralize(text, allowed_hosts)[:2900]
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def audit_block(audit_id: UUID, *, offline: bool = False) -> JSON:
    text = strings.AUDIT_REF.format(audit_id=audit_id) + (strings.OFFLINE_TAG if offline else "")
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def render_answer(
    answer: AgentAnswer,
    audit_id: UUID,
    *,
    allowed_hosts: Iterable[str] = (),
    prometheus_url: str | None = None,
) -> list[SlackMessage]:
    """One or more messages; the checked findings and the trailer (evidence, feedback, audit
    ref) are on the last. Everything generated is neutralized; links only to `allowed_hosts`."""
    report = answer.findings
    prose = answer.body if report is not None and answer.body is not None else answer.text
    body = neutralize(prose.strip(), allowed_hosts)
    parts = split_markdown(body) if body else []
    extra: list[JSON] = []
    if report is not None:
        extra = findings_blocks(report, allowed_hosts=allowed_hosts, prometheus_url=prometheus_url)
    extra += [b for b in (evidence_block(answer.evidence, allowed_hosts),) if b]
    extra += [feedback_block(audit_id), audit_block(audit_id, offline=answer.offline)]
    if not parts or (len(parts[-1]) + _chars(extra) > MARKDOWN_BUDGET and report is not None):
        parts.append("" if parts or report is not None else strings.EMPTY)
    messages = []
    for i, part in enumerate(parts):
        blocks: list[JSON] = [{"type": "markdown", "text": part}] if part else []
        if i == len(parts) - 1:
            blocks += extra
        text = part or _fallback(report)
        messages.append(SlackMessage(text=text[:FALLBACK_TEXT], blocks=blocks[:MAX_BLOCKS]))
    return messages


def _chars(blocks: list[JSON]) -> int:
    total = 0
    for b in blocks:
        if isinstance(b.get("text"), dict):
            total += len(b["text"].get("text", ""))
        elif isinstance(b.get("text"), str):
            total += len(b["text"])
        total += sum(len(e.get("text", "")) for e in b.get("elements", []) if isinstance(e.get("text"), str))
    return total


def _fallback(report: Any) -> str:
    """Notification text of a message that holds only blocks: the first finding's claim."""
    if report is not None and report.findings:
        return neutralize(report.findings[0].claim)
    return strings.FINDINGS_NONE


def render_failure(message: str, audit_id: UUID, *, allowed_hosts: Iterable[str] = ()) -> SlackMessage:
    text = neutralize(message, allowed_hosts)[:MARKDOWN_BUDGET]
    return SlackMessage(
        text=text[:FALLBACK_TEXT], blocks=[{"type": "markdown", "text": text}, audit_block(audit_id)]
    )
