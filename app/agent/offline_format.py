"""Offline mode's layout of analyzer findings and alerts as Slack text. It never interprets the
data: it lays fields out, keeps the decisive log lines of a crash whole (error/fatal/panic lines,
up to a bounded size) and makes tool text unable to form Slack markup (mentions, links, code
fence breakouts).
"""

# ruff: noqa: RUF001, RUF002  (look-alike characters on purpose)

from __future__ import annotations

import html
import json
import re
from typing import Any

JSON = dict[str, Any]
MAX_LOG_LINE = 2_000
"""One log line is shown whole up to this many characters (a Java exception with its message)."""
MAX_LOG_BLOCK = 6_000
"""All log lines shown for one finding, together."""
MAX_LOG_LINES = 12
MAX_EVIDENCE = 6
_WRAPPER = re.compile(r"^\s*<(?P<tag>tool_result|tool_error)[^>]*>(?P<body>.*)</(?P=tag)>\s*$", re.DOTALL)
_DECISIVE = re.compile(
    r"\b(error|err|fatal|panic|exception|traceback|caused by|killed|oom\w*|refused|denied|failed|failure"
    r"|cannot|can't|unable|timeout|timed out|segfault|sigsegv|sigkill|exit(ed)? (code|status))\b",
    re.IGNORECASE,
)
_LOG_HEADER = re.compile(r"^(?P<head>[^\n]*log lines[^\n]*):\n(?P<body>.*)$", re.DOTALL | re.IGNORECASE)


def unwrap(content: str) -> Any:
    """The router's `<tool_result>`/`<tool_error>` wrapper → the JSON value (or text) it carries."""
    m = _WRAPPER.match(content)
    body = html.unescape(m.group("body") if m else content).strip()
    try:
        return json.loads(body)
    except ValueError:
        return body


def slack_safe(value: Any, limit: int = 300) -> str:
    """Tool data shown verbatim on one line: no Slack mentions/links, no formatting breakouts."""
    text = " ".join(str(value).split())
    text = text[:limit] + ("…" if len(text) > limit else "")
    return text.replace("<", "(").replace(">", ")").replace("`", "'")


def code_safe(line: str) -> str:
    """A log line inside a code block: kept readable (‹ › for < >), never closing the block."""
    return line.replace("<", "‹").replace(">", "›").replace("`", "ˋ").rstrip()


def first(d: JSON, *keys: str) -> Any:
    for k in keys:
        if d.get(k) not in (None, "", [], {}):
            return d[k]
    return None


def finding_where(f: JSON) -> str:
    res = first(f, "resource", "object", "name")
    if isinstance(res, dict):
        res = "/".join(str(res[k]) for k in ("kind", "name") if res.get(k))
    elif res and f.get("kind") and "/" not in str(res):
        res = f"{f['kind']}/{res}"
    ns = f.get("namespace")
    return "/".join(slack_safe(x, 120) for x in (ns, res) if x)


def finding_line(f: JSON, limit: int = 300) -> str:
    sev = first(f, "severity", "level")
    title = first(f, "summary", "title", "message", "reason", "analyzer") or "finding"
    where = finding_where(f)
    return f"• {'*' + slack_safe(sev, 20) + '* ' if sev else ''}{slack_safe(title, limit)}" + (
        f" — {where}" if where else ""
    )


def decisive_lines(lines: list[str]) -> tuple[list[str], int]:
    """The lines that explain a failure (errors, fatals, panics, exceptions), or the last few when
    none match, within MAX_LOG_LINES / MAX_LOG_BLOCK. Returns (lines, how many were left out)."""
    lines = [ln.strip() for ln in lines if ln.strip()]
    picked = [ln for ln in lines if _DECISIVE.search(ln)] or lines[-3:]
    picked = picked[-MAX_LOG_LINES:]
    out: list[str] = []
    size = 0
    for line in reversed(picked):  # the newest lines matter most
        if len(line) > MAX_LOG_LINE:
            line = line[:MAX_LOG_LINE] + " …[line cut]"
        if size + len(line) > MAX_LOG_BLOCK:
            break
        out.append(line)
        size += len(line)
    out.reverse()
    return out, len(lines) - len(out)


def _evidence_item(item: Any) -> str:
    text = str(item)
    m = _LOG_HEADER.match(text)
    if not m and "\n" not in text:
        return f"\n    ◦ {slack_safe(text, 500)}"
    head, body = (m["head"], m["body"]) if m else ("log", text)
    shown, left_out = decisive_lines(body.split("\n"))
    note = f" ({left_out} more not shown)" if left_out > 0 else ""
    block = "\n".join(code_safe(ln) for ln in shown)
    return f"\n    ◦ {slack_safe(head, 200)}{note}:\n```\n{block}\n```"


def finding_detail(f: JSON) -> str:
    """One finding in full: its line, its evidence (log lines whole), and what to run next."""
    out = finding_line(f, limit=600)
    evidence = first(f, "evidence", "details", "detail")
    if evidence:
        items = evidence if isinstance(evidence, list) else [evidence]
        out += "".join(_evidence_item(e) for e in items[:MAX_EVIDENCE])
    nxt = f.get("next_query")
    if isinstance(nxt, str) and nxt:
        out += f"\n    ◦ next: `{slack_safe(nxt, 300)}`"
    return out


def findings_of(data: Any) -> list[Any]:
    items = data.get("findings", data.get("items", [])) if isinstance(data, dict) else data
    if isinstance(items, list):
        return items
    return [items] if items else []


def alert_line(a: JSON) -> str:
    labels = a.get("labels") or {}
    ann = a.get("annotations") or {}
    name = labels.get("alertname") or a.get("name") or "alert"
    sev = labels.get("severity")
    ns = labels.get("namespace") or a.get("namespace")
    summary = ann.get("summary") or ann.get("description") or ""
    line = f"• *{slack_safe(name, 120)}*" + (f" ({slack_safe(sev, 20)})" if sev else "")
    line += f" — {slack_safe(ns, 120)}" if ns else ""
    line += f": {slack_safe(summary)}" if summary else ""
    return line


def alerts_of(data: Any) -> list[JSON]:
    alerts = data.get("alerts", []) if isinstance(data, dict) else data
    return [a for a in alerts if isinstance(a, dict)] if isinstance(alerts, list) else []
