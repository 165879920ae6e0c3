"""The postmortem (Markdown for the team's post-mortem document, and the same posted to the thread)
and the private catch-up, from a `Digest`. Every value here came from the thread; the caller posts
through the neutralizer like every other text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from app.incidents.summary import Digest, Said, dedup

NOTHING_VISIBLE = (
    "Nothing in this thread that you may see yet (or I took no part in it). "
    "Catch-ups are built only from answers inside your own scope."
)


@dataclass(frozen=True)
class IncidentMeta:
    alertname: str
    namespaces: tuple[str, ...]
    link: str | None
    fired_at: datetime | None
    resolved_at: datetime | None
    """None: still open."""


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "unknown"


def _bullets(items: list[Said], *, with_who: bool = True, empty: str = "None recorded.") -> list[str]:
    if not items:
        return [f"- {empty}"]
    return [f"- {s.text}" + (f" ({s.who}, {s.at})" if with_who else "") for s in items]


def timeline(d: Digest, meta: IncidentMeta) -> list[str]:
    """fired → questions, findings, actions (in time order) → resolved."""
    events: list[tuple[str, str]] = []
    for s in d.questions:  # what people said in the thread: a question, or a statement
        events.append((s.at, f"{'Question' if s.text.endswith('?') else 'Said'} ({s.who}): {s.text}"))
    events += [(s.at, f"Finding: {s.text}") for s in d.findings]
    events += [(s.at, f"Action mentioned ({s.who}): {s.text}") for s in d.actions]
    events.sort(key=lambda e: e[0])  # stable: same minute keeps question → finding → action
    fired = f"{meta.fired_at:%H:%M}" if meta.fired_at else (d.fired.at if d.fired else "--:--")
    lines = [f"- {fired} Fired: {d.fired.text if d.fired else meta.alertname}"]
    lines += [f"- {at} {text}" for at, text in events]
    if meta.resolved_at:
        lines.append(f"- {meta.resolved_at:%H:%M} Resolved")
    else:
        lines.append("- (still open)")
    return lines


def postmortem_markdown(d: Digest, meta: IncidentMeta, evidence: list[str]) -> str:
    where = ", ".join(meta.namespaces) or "cluster"
    state = f"resolved {_when(meta.resolved_at)}" if meta.resolved_at else "still open"
    lines = [
        f"# Postmortem: {meta.alertname} in {where}",
        "",
        f"Fired {_when(meta.fired_at)}, {state}." + (f" Thread: {meta.link}" if meta.link else ""),
        "",
        "## Timeline (UTC)",
        *timeline(d, meta),
        "",
        "## Findings",
        *_bullets(d.findings, with_who=False),
        "",
        "## Fix",
        f"- {d.fix.text} ({d.fix.who}, {d.fix.at})" if d.fix else "- No fix was confirmed in the thread.",
        "",
        "## Evidence digest",
        *([f"- {e}" for e in evidence] or ["- No tool calls recorded."]),
        "",
        "## Open questions",
        *_bullets(d.open_questions, with_who=False, empty="None left open in the thread."),
    ]
    return "\n".join(lines) + "\n"


_HEADING = re.compile(r"^#{1,6} (.+)$", re.M)


def for_slack(markdown: str) -> str:
    """Slack's mrkdwn has no headings: make them bold lines."""
    return _HEADING.sub(lambda m: f"*{m.group(1)}*", markdown)


def catchup_text(d: Digest, meta: IncidentMeta | None) -> str:
    if not (d.fired or d.questions or d.findings):
        return NOTHING_VISIBLE
    head = "*Catch-up*"
    if meta is not None:
        state = f"resolved {_when(meta.resolved_at)}" if meta.resolved_at else "still open"
        head = f"*Catch-up: {meta.alertname}* ({state})"
    elif d.fired:
        head = f"*Catch-up* — {d.fired.text}"
    sections = [
        head,
        "*What is known*",
        *_bullets(d.findings, with_who=False),
        "*Ruled out*",
        *_bullets(d.ruled_out),
        "*Who is doing what*",
        *_bullets(dedup(d.doing + d.actions[-3:]), empty="Nobody has said yet."),
        "*Open questions*",
        *_bullets(d.open_questions, with_who=False, empty="None recorded."),
        f"*Fix confirmed*: {d.fix.text} ({d.fix.who})" if d.fix else "*Fix confirmed*: not yet.",
        "_Only you can see this; built from the answers your scope covers._",
    ]
    return "\n".join(s.replace("- ", "• ", 1) if s.startswith("- ") else s for s in sections)
