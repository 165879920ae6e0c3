"""Prompts are Markdown template files in `prompts/` (string.Template `$name` placeholders).

The system prompt depends only on the scope and the role, so it is byte-identical across the
rounds of a job and across the follow-ups of a thread — which is what makes prompt caching work.
Time and other per-turn facts go into the user turn, never into the system prompt.
"""

from __future__ import annotations

import html
import json
import time
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from kernel.scope import EffectiveScope

PROMPTS_DIR = Path(__file__).with_name("prompts")
CACHE = {"type": "ephemeral"}
MAX_ALERTS = 10
MAX_ALERT_CHARS = 8000


@cache
def template(name: str) -> Template:
    return Template((PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8"))


def render(template_name: str, /, **values: Any) -> str:
    return template(template_name).substitute({k: str(v) for k, v in values.items()}).strip()


def system_blocks(scope: EffectiveScope) -> list[dict[str, Any]]:
    """The system prompt as one cached text block."""
    role_rules = render("role_recommend") if scope.may_recommend else render("role_viewer")
    text = render("system", scope=scope.describe(), role_rules=role_rules)
    text += "\n\n" + render("findings")  # cited findings (app/agent/findings.py): its own section
    return [{"type": "text", "text": text, "cache_control": CACHE}]


def escape_data(text: str) -> str:
    """Untrusted text placed between our own tags: it can never open or close a tag."""
    return html.escape(text, quote=False)


def alert_question(alert: dict[str, Any], namespace: str | None) -> str:
    """The opening user turn of an alert-triggered triage; labels/annotations stay data."""
    keep = ("status", "groupLabels", "commonLabels", "commonAnnotations", "labels", "annotations", "startsAt")
    data: dict[str, Any] = {k: alert[k] for k in keep if k in alert}
    alerts = alert.get("alerts")
    if isinstance(alerts, list):
        data["alerts"] = [
            {k: a.get(k) for k in ("status", "labels", "annotations", "startsAt") if isinstance(a, dict)}
            for a in alerts[:MAX_ALERTS]
        ]
        if len(alerts) > MAX_ALERTS:
            data["more_alerts"] = len(alerts) - MAX_ALERTS
    # compact: this turn is re-read in every round of the triage
    compact = json.dumps(data or alert, separators=(",", ":"), sort_keys=True, default=str)
    body = escape_data(compact[:MAX_ALERT_CHARS])
    return render("alert_triage", namespace=namespace or "its namespace", alert=body)


def turn_context(now: float | None = None) -> str:
    t = time.time() if now is None else now
    return render("turn_context", now=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), unix=int(t))
