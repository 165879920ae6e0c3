"""Token budget: estimate, cap tool results, compact the conversation before the window fills.

Following HolmesGPT's measured defaults: one tool result may take at most min(15 % of the
context window, 25 k tokens); above that it is replaced by an excerpt plus a hint to narrow the
query. When the conversation nears the window, old tool results are elided (newest kept), so a
long investigation degrades gracefully instead of failing with a 400.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from app.agent.prompt import escape_data, render

CHARS_PER_TOKEN = 4
ELIDED = "[elided to save context: earlier result of {name}; call the tool again if you still need it]"

_HINTS = {
    "prometheus_query": "Aggregate it: `sum by (namespace, pod) (…)`, `topk(10, …)` or more label filters.",
    "prometheus_range_query": "Aggregate it (`sum by (…)`, `topk(5, …)`), shorten the range or raise `step`.",
    "k8s_list": "Pass a `namespace` and a `label_selector`, or ask for one resource with `k8s_get`.",
    "k8s_events": "Pass a `namespace` and an `involved_object` name.",
    "k8s_pod_logs": "Lower `tail_lines` or pick one `container`.",
    "runbook_search": "Lower `limit` or use a more specific query.",
}
_DEFAULT_HINT = "Narrow the query (namespace, selector, aggregation, shorter range) and call it again."


def estimate_tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class TokenBudget:
    context_window: int = 200_000
    result_share: float = 0.15
    result_cap_max: int = 25_000
    compact_at: float = 0.80
    """Compact when the estimated prompt reaches this share of the window (leaves room for output)."""

    @property
    def result_cap(self) -> int:
        return min(int(self.context_window * self.result_share), self.result_cap_max)

    def cap_result(self, name: str, content: str) -> tuple[str, bool]:
        """(content for the model, was_capped). Oversized → excerpt + narrowing hint, still tagged."""
        tokens = estimate_tokens(content)
        cap = self.result_cap
        if tokens <= cap:
            return content, False
        excerpt_chars = max(0, cap * CHARS_PER_TOKEN // 2)
        note = render("too_large", name=name, tokens=tokens, cap=cap, hint=_HINTS.get(name, _DEFAULT_HINT))
        # Our own wrapper; the excerpt (which contains the router's tags) is escaped again so the
        # cut can never leave a tag open or produce a closing tag.
        body = escape_data(content[:excerpt_chars])
        return (
            f'<tool_result name="{escape_data(name)}" truncated="true">\n{note}\n\n{body}\n…</tool_result>',
            True,
        )

    def compact(self, messages: list[dict[str, Any]], fixed_tokens: int) -> int:
        """Elide the oldest tool results in place until under the threshold. Returns tokens saved."""
        limit = int(self.context_window * self.compact_at)
        total = fixed_tokens + estimate_tokens(messages)
        saved = 0
        if total <= limit:
            return 0
        names = _tool_names(messages)
        # Never touch the last message: it holds the results the model has not seen yet.
        for msg in messages[:-1]:
            if total - saved <= limit:
                break
            if msg.get("role") != "user" or not isinstance(msg.get("content"), list):
                continue
            for block in msg["content"]:
                if block.get("type") != "tool_result" or str(block.get("content", "")).startswith("[elided"):
                    continue
                before = estimate_tokens(block.get("content", ""))
                block["content"] = ELIDED.format(name=names.get(block.get("tool_use_id", ""), "a tool"))
                saved += before - estimate_tokens(block["content"])
        return saved


def _tool_names(messages: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for msg in messages:
        if msg.get("role") == "assistant" and isinstance(msg.get("content"), list):
            for b in msg["content"]:
                if b.get("type") == "tool_use":
                    out[b["id"]] = b["name"]
    return out
