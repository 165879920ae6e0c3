"""Checked findings (app/agent/findings.py) → Slack blocks.

Each finding is a `section` (severity, confidence, the claim) and a `context` with its evidence:
the enforced PromQL with a link to Prometheus (only to `AIOPS_PROMETHEUS_EXTERNAL_URL`, and only
when it is set), the resource read, a note when the call's graph is attached, and the quoted log
line or event. Claims that cited nothing are listed apart as *not verified* — never as findings.
Everything passes the neutralizer; sizes stay inside Slack's limits (section/context text ≤ 3,000
characters, the message ≤ 50 blocks: at most 2 per finding + 3).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from app.agent.findings import Evidence, Finding, FindingsReport
from app.slack import strings
from app.slack.neutralize import neutralize

JSON = dict[str, Any]
MAX_TEXT = 2_900
"""Per section / context element (Slack: 3,000)."""
MAX_LINK = 1_200
MAX_SHOWN_EVIDENCE = 6
"""Evidence lines per finding, one context element each (Slack: ≤ 10 elements)."""
BUDGET = 12_000
"""Characters of all finding blocks together; findings past it are counted, not shown."""
MAX_APPENDIX = 6_000
_ICON = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
_TOOL_ICON = {
    "prometheus_query": "📈", "prometheus_range_query": "📈", "k8s_pod_logs": "📜", "k8s_events": "🗒️"
}


def findings_blocks(
    report: FindingsReport, *, allowed_hosts: Iterable[str] = (), prometheus_url: str | None = None
) -> list[JSON]:
    hosts = frozenset(allowed_hosts)
    out: list[JSON] = []
    if report.missing:
        return [_context(strings.FINDINGS_MISSING, hosts)]
    if report.findings:
        title = strings.FINDINGS_TITLE_ANALYZERS if report.source == "analyzers" else strings.FINDINGS_TITLE
        out.append(_section(title, hosts))
        used = 0
        for n, f in enumerate(report.findings):
            blocks = [_section(_claim(f), hosts), _context(_evidence(f, prometheus_url), hosts)]
            size = sum(_size(b) for b in blocks)
            if used + size > BUDGET:
                more = len(report.findings) - n + report.omitted
                out.append(_context(strings.FINDINGS_MORE.format(n=more), hosts))
                break
            out += blocks
            used += size
        else:
            if report.omitted:
                out.append(_context(strings.FINDINGS_MORE.format(n=report.omitted), hosts))
    else:
        out.append(_section(strings.FINDINGS_NONE, hosts))
    if report.unverified:
        lines = [strings.FINDINGS_UNVERIFIED] + [f"• {_clip(c, 300)}" for c in report.unverified]
        out.append(_context("\n".join(lines), hosts))
    tail = []
    if report.unknown:
        tail.append(strings.FINDINGS_UNKNOWN.format(text=_clip(report.unknown, 600)))
    if report.next_checks:
        checks = "\n".join(f"• {_clip(t, 400)}" for t in report.next_checks)
        tail.append(strings.FINDINGS_NEXT + "\n" + checks)
    if tail:
        out.append(_section("\n".join(tail), hosts))
    if report.appendix:
        out.append({"type": "markdown", "text": _clip(neutralize(report.appendix, hosts), MAX_APPENDIX)})
    return out


def _claim(f: Finding) -> str:
    head = strings.FINDING_HEAD.format(
        icon=_ICON.get(f.severity, "•"), severity=f.severity.capitalize(), confidence=f.confidence
    )
    return f"{head}\n{f.claim}"


def _evidence(f: Finding, prometheus_url: str | None) -> list[str]:
    lines = [_evidence_line(ev, prometheus_url) for ev in f.evidence[:MAX_SHOWN_EVIDENCE]]
    if len(f.evidence) > MAX_SHOWN_EVIDENCE:
        lines.append(strings.EVIDENCE_MORE.format(n=len(f.evidence) - MAX_SHOWN_EVIDENCE).strip(" ·"))
    if f.next_check:
        lines.append(strings.FINDING_NEXT.format(text=_code(f.next_check)))
    if f.note:
        lines.append(f"⚠️ _{f.note}_")
    return lines


def _evidence_line(ev: Evidence, prometheus_url: str | None) -> str:
    parts = [f"{_TOOL_ICON.get(ev.tool, '📦')} call {ev.call} {_code(ev.label, 240)}"]
    link = prometheus_link(prometheus_url, ev) if ev.query else None
    if link:
        parts.append(f"<{link}|{strings.OPEN_IN_PROMETHEUS}>")
    if ev.graph:
        parts.append(strings.GRAPH_ATTACHED)
    line = " · ".join(parts)
    if ev.quote:
        line += "\n> " + _code(ev.quote, 2_000)
    return line


def prometheus_link(base: str | None, ev: Evidence) -> str | None:
    """The enforced query in the Prometheus UI at the configured external URL (never elsewhere)."""
    if not base or not ev.query:
        return None
    url = f"{base.rstrip('/')}/graph?g0.expr={quote(ev.query, safe='')}&g0.tab=0"
    if ev.range_s and ev.end:
        try:
            end = datetime.fromisoformat(ev.end.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")
            url += f"&g0.range_input={ev.range_s}s&g0.end_input={quote(end, safe='')}"
        except ValueError:
            pass
    return url if len(url) <= MAX_LINK else None


def _code(text: str, limit: int = 300) -> str:
    t = " ".join(text.split()).replace("`", "'")
    return "`" + _clip(t, limit) + "`"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str, hosts: frozenset[str]) -> JSON:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(neutralize(text, hosts), MAX_TEXT)}}


def _context(texts: str | list[str], hosts: frozenset[str]) -> JSON:
    items = [texts] if isinstance(texts, str) else texts
    elements = [{"type": "mrkdwn", "text": _clip(neutralize(t, hosts), MAX_TEXT)} for t in items[:10]]
    return {"type": "context", "elements": elements}


def _size(block: JSON) -> int:
    if "text" in block:
        return len(block["text"]["text"])
    return sum(len(e.get("text", "")) for e in block.get("elements", []))
