"""Offline mode: when Claude is unavailable (no key, or it stays down), answer from the
deterministic analyzers and the firing alerts for the effective scope — clearly labelled.

The analyzers are called *through the router* like any model tool call, so scope enforcement,
sanitizing and the `tool_call` audit rows all still apply. The formatting below never
interprets the data; it lays out fields as text.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from typing import Any

from app.agent import texts
from app.agent.base import AgentAnswer
from app.agent.evidence import describe_call
from kernel.scope import EffectiveScope
from tools.base import ToolContext

JSON = dict[str, Any]
MAX_ITEMS = 15
MAX_NAMESPACES = 10
_WRAPPER = re.compile(r"^\s*<(?P<tag>tool_result|tool_error)[^>]*>(?P<body>.*)</(?P=tag)>\s*$", re.DOTALL)


def unwrap(content: str) -> Any:
    """The router's `<tool_result>`/`<tool_error>` wrapper → the JSON value (or text) it carries."""
    m = _WRAPPER.match(content)
    body = html.unescape(m.group("body") if m else content).strip()
    try:
        return json.loads(body)
    except ValueError:
        return body


def _slack_safe(value: Any, limit: int = 300) -> str:
    """Tool data shown verbatim: no Slack mentions/links, no formatting breakouts."""
    text = " ".join(str(value).split())[:limit]
    return text.replace("<", "(").replace(">", ")").replace("`", "'")


def _first(d: JSON, *keys: str) -> Any:
    for k in keys:
        if d.get(k) not in (None, "", [], {}):
            return d[k]
    return None


def format_findings(data: Any) -> list[str]:
    items = data.get("findings", data.get("items", [])) if isinstance(data, dict) else data
    if not isinstance(items, list):
        return [f"• {_slack_safe(items)}"] if items else []
    lines = []
    for f in items[:MAX_ITEMS]:
        if not isinstance(f, dict):
            lines.append(f"• {_slack_safe(f)}")
            continue
        sev = _first(f, "severity", "level")
        title = _first(f, "summary", "title", "message", "reason", "analyzer") or "finding"
        res = _first(f, "resource", "object", "name")
        if isinstance(res, dict):
            res = "/".join(str(res[k]) for k in ("kind", "name") if res.get(k))
        elif res and f.get("kind") and "/" not in str(res):
            res = f"{f['kind']}/{res}"
        ns = f.get("namespace")
        where = " — " + "/".join(_slack_safe(x, 120) for x in (ns, res) if x) if (ns or res) else ""
        line = f"• {'*' + _slack_safe(sev, 20) + '* ' if sev else ''}{_slack_safe(title)}{where}"
        evidence = _first(f, "evidence", "details", "detail")
        if evidence:
            ev = evidence if isinstance(evidence, list) else [evidence]
            line += "".join(f"\n    ◦ `{_slack_safe(e, 200)}`" for e in ev[:4])
        lines.append(line)
    if len(items) > MAX_ITEMS:
        lines.append(f"• … and {len(items) - MAX_ITEMS} more")
    return lines


def format_alerts(data: Any) -> list[str]:
    alerts = data.get("alerts", []) if isinstance(data, dict) else data
    if not isinstance(alerts, list):
        return []
    lines = []
    for a in alerts[:MAX_ITEMS]:
        if not isinstance(a, dict):
            continue
        labels = a.get("labels") or {}
        ann = a.get("annotations") or {}
        name = labels.get("alertname") or a.get("name") or "alert"
        sev = labels.get("severity")
        ns = labels.get("namespace") or a.get("namespace")
        summary = ann.get("summary") or ann.get("description") or ""
        line = f"• *{_slack_safe(name, 120)}*" + (f" ({_slack_safe(sev, 20)})" if sev else "")
        line += f" — {_slack_safe(ns, 120)}" if ns else ""
        line += f": {_slack_safe(summary)}" if summary else ""
        lines.append(line)
    return lines


class OfflineResponder:
    def __init__(self, *, router: Any | None) -> None:
        self._router = router

    async def answer(self, *, job_id: str, session_id: str | None, scope: EffectiveScope,
                     reason: str) -> AgentAnswer:
        header = texts.OFFLINE_HEADER.format(reason=reason, scope=scope.describe())
        if self._router is None:
            return AgentAnswer(text=f"{header}\n\n{texts.OFFLINE_NO_TOOLS}", offline=True)
        ctx = ToolContext(scope=scope, job_id=job_id, session_id=session_id)
        available = {t["name"] for t in self._router.catalog(scope)}
        calls: list[tuple[str, JSON]] = []
        if "analyze" in available:
            if scope.namespaces is None:
                calls.append(("analyze", {}))
            else:
                calls += [("analyze", {"namespace": ns}) for ns in sorted(scope.namespaces)[:MAX_NAMESPACES]]
        if "prometheus_alerts" in available:
            calls.append(("prometheus_alerts", {}))
        if not calls:
            return AgentAnswer(text=f"{header}\n\n{texts.OFFLINE_NO_TOOLS}", offline=True)
        findings: list[str] = []
        alerts: list[str] = []
        problems: list[str] = []
        audit: list[JSON] = []
        artifacts = []
        for name, args in calls:
            outcome = await self._router.invoke(name, args, ctx, f"offline_{uuid.uuid4().hex[:12]}")
            audit.append(outcome.audit)
            artifacts.extend(outcome.artifacts)
            data = unwrap(outcome.content)
            if outcome.is_error:
                problems.append(texts.OFFLINE_TOOL_FAILED.format(tool=name, error=_slack_safe(data, 200)))
            elif name == "analyze":
                findings += format_findings(data)
            else:
                alerts += format_alerts(data)
        parts = [header]
        if findings:
            parts.append(texts.OFFLINE_FINDINGS + "\n" + "\n".join(findings))
        if alerts:
            parts.append(texts.OFFLINE_ALERTS + "\n" + "\n".join(alerts))
        if not findings and not alerts and not problems:
            parts.append(texts.OFFLINE_NO_FINDINGS)
        parts += problems
        evidence = [describe_call(name, args) for name, args in calls]
        return AgentAnswer(text="\n\n".join(parts), tool_calls=audit, artifacts=artifacts, offline=True,
                           evidence=evidence)
