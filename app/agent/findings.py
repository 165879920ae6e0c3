"""Cited findings: the model's closing ```findings block, checked against this investigation.

The model ends an investigation with a fenced block tagged `findings` (format in
prompts/findings.md): claims, each with a severity, a confidence and references to the numbered
tool calls of *this* investigation (`call="N"` on each result's tag), optionally quoting a line of
that call's result. Nothing the model writes is trusted here:

- a reference counts only if that call was made in this investigation and returned data (not an
  error), and a quote only if it appears verbatim (whitespace aside) in that call's sanitized
  result — so a quote is tool data that already passed the router's redaction;
- a claim with no reference left is not a finding: it is listed as *not verified*;
- a claim that lost some of its references is kept one confidence level lower, with a note;
- no finding left → the report says what is unknown and what to check next.

The checked `FindingsReport` is what Slack renders (app/slack/findings.py) and what offline mode
produces from the analyzers (app/agent/offline_findings.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from app.agent import texts
from app.agent.evidence import CallRecord, squash
from app.agent.recommendations import split_recommendations

SEVERITIES = ("critical", "warning", "info")
CONFIDENCES = ("high", "medium", "low")
MAX_FINDINGS = 8
MAX_ITEMS = 50
"""Items of a block looked at (the rest are ignored)."""
MAX_UNVERIFIED = 5
MAX_REFS = 5
MAX_NEXT = 5
MAX_CLAIM = 500
MAX_QUOTE = 2_000
"""A quoted log line is shown whole up to this (a Java exception with its message)."""
MAX_NOTE = 600
_BLOCK = re.compile(r"(?ms)^[ \t]*```[ \t]*findings[ \t]*\n(?P<body>.*?)^[ \t]*```[ \t]*$\n?")
_JSON_BLOCK = re.compile(r"(?ms)^[ \t]*```[ \t]*json[ \t]*\n(?P<body>.*?)^[ \t]*```[ \t]*$\n?")
_UNCLOSED = re.compile(r"(?m)^[ \t]*```[ \t]*findings[ \t]*$")
_CALL_REF = re.compile(r"^\s*(?:call\s*)?#?\s*(\d{1,4})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Evidence:
    """One checked reference: a call of this investigation and what of it backs the claim."""

    call: int
    tool: str
    label: str
    """The enforced PromQL, or the resource read (kind/namespace/name, logs ns/pod, …)."""
    query: str | None = None
    """The enforced PromQL, for a link to Prometheus."""
    range_s: int | None = None
    end: str | None = None
    graph: str | None = None
    """File name of the graph that call attached to the thread."""
    quote: str | None = None
    """A line of the call's (sanitized) result, checked to be there."""


@dataclass(frozen=True)
class Finding:
    claim: str
    severity: str
    confidence: str
    evidence: tuple[Evidence, ...]
    note: str | None = None
    """Why the confidence was lowered (references that did not check out)."""
    next_check: str | None = None


@dataclass
class FindingsReport:
    findings: list[Finding] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    """Claims that cited nothing this investigation read: shown as such, never as findings."""
    unknown: str | None = None
    next_checks: list[str] = field(default_factory=list)
    omitted: int = 0
    """Checked findings past MAX_FINDINGS (counted, not shown)."""
    missing: bool = False
    """Tools were called but the answer carried no (readable) findings block."""
    source: str = "model"
    """"model" or "analyzers" (offline mode)."""
    appendix: str | None = None
    """Markdown shown after the findings (offline mode: the rest of the scope, failed checks)."""

    @property
    def supported(self) -> bool:
        return bool(self.findings)

    def to_json(self) -> dict[str, Any]:
        """For the API's `final` event: the checked findings, as data."""
        return asdict(self)


def split_block(text: str) -> tuple[str, Any | None, bool]:
    """(the text without its findings block(s), the parsed last block or None, found-but-unreadable)."""
    blocks = list(_BLOCK.finditer(text))
    prose = _BLOCK.sub("", text)
    if cut := _UNCLOSED.search(prose):  # cut off (max_tokens): never show the raw JSON
        return prose[: cut.start()].strip(), None, True
    if not blocks:
        return _json_block(text)
    prose = prose.strip()
    try:
        return prose, json.loads(blocks[-1].group("body")), False
    except ValueError:
        return prose, None, True


def _json_block(text: str) -> tuple[str, Any | None, bool]:
    """A model that tagged the block `json` instead: the last such block holding "findings"."""
    for m in reversed(list(_JSON_BLOCK.finditer(text))):
        try:
            raw = json.loads(m.group("body"))
        except ValueError:
            continue
        if isinstance(raw, dict) and isinstance(raw.get("findings"), list):
            return (text[: m.start()] + text[m.end() :]).strip(), raw, False
    return text, None, False


def answer_findings(
    text: str, calls: list[CallRecord], *, may_recommend: bool
) -> tuple[str, FindingsReport | None]:
    """(the answer without its findings block, the checked report). No block after tool calls
    (or an unreadable one) → a report marked `missing`; no tool calls and no block → None."""
    prose, raw, unreadable = split_block(text)
    if raw is not None:
        return prose, check(raw, calls, may_recommend=may_recommend)
    if calls or unreadable:  # an investigation whose claims cite nothing checkable
        return prose, FindingsReport(missing=True)
    return prose, None


def check(
    raw: Any, calls: list[CallRecord], *, may_recommend: bool, by_severity: bool = True
) -> FindingsReport:
    """The model's block (parsed JSON) checked against the calls actually made; the findings most
    severe first unless `by_severity` is False (offline mode keeps its focus-first order)."""
    by_number = {c.number: c for c in calls}
    items = raw.get("findings") if isinstance(raw, dict) else raw
    report = FindingsReport()
    for item in items[:MAX_ITEMS] if isinstance(items, list) else []:
        checked = _finding(item, by_number, may_recommend)
        if isinstance(checked, Finding):
            report.findings.append(checked)
        elif checked:
            report.unverified.append(checked)
    if by_severity:
        report.findings.sort(key=lambda f: (SEVERITIES.index(f.severity), CONFIDENCES.index(f.confidence)))
    report.omitted = max(0, len(report.findings) - MAX_FINDINGS)
    del report.findings[MAX_FINDINGS:]
    del report.unverified[MAX_UNVERIFIED:]
    if isinstance(raw, dict):
        report.unknown = _text(raw.get("unknown"), MAX_NOTE, may_recommend) or None
        checks = raw.get("next")
        checks = checks if isinstance(checks, list) else [checks]
        report.next_checks = [t for n in checks[:MAX_NEXT] if (t := _text(n, MAX_NOTE, may_recommend))]
    if not report.findings:
        report.unknown = report.unknown or texts.FINDINGS_UNKNOWN_DEFAULT
        report.next_checks = report.next_checks or [texts.FINDINGS_NEXT_DEFAULT]
    return report


def _finding(item: Any, calls: dict[int, CallRecord], may_recommend: bool) -> Finding | str | None:
    """A checked finding; or the claim alone when no reference holds (not verified); or None."""
    if not isinstance(item, dict):
        return None
    claim = _text(item.get("claim"), MAX_CLAIM, may_recommend)
    if not claim:
        return None
    good, bad = _refs(item.get("evidence"), calls)
    if not good:
        return claim
    confidence = _choice(item.get("confidence"), CONFIDENCES, "low")
    note = None
    if bad:  # visibly downgraded: one level less, and why
        confidence = CONFIDENCES[min(CONFIDENCES.index(confidence) + 1, len(CONFIDENCES) - 1)]
        note = texts.FINDING_REFS_DROPPED.format(n=bad)
    severity = _choice(item.get("severity"), SEVERITIES, "info")
    nxt = _text(item.get("next"), MAX_NOTE, may_recommend) or None
    return Finding(claim, severity, confidence, tuple(good), note, nxt)


def _refs(value: Any, calls: dict[int, CallRecord]) -> tuple[list[Evidence], int]:
    refs = value if isinstance(value, list) else [value] if value is not None else []
    good: list[Evidence] = []
    bad = 0
    for ref in refs[:MAX_REFS]:
        ev = _evidence(ref, calls)
        if ev is None:
            bad += 1
        elif ev not in good:
            good.append(ev)
    return good, bad  # references past the cap are not read, not wrong


def _evidence(ref: Any, calls: dict[int, CallRecord]) -> Evidence | None:
    number, quote = _call_number(ref), None
    if isinstance(ref, dict):
        number = _call_number(ref.get("call"))
        if isinstance(ref.get("quote"), str) and ref["quote"].strip():
            quote = squash(ref["quote"])
    call = calls.get(number) if number is not None else None
    if call is None or call.is_error:
        return None
    if quote is not None and not call.contains(quote):
        return None  # a quote that is not in the data is a made-up quote: the reference fails
    return evidence_of(call, quote[:MAX_QUOTE] if quote else None)


def evidence_of(call: CallRecord, quote: str | None = None) -> Evidence:
    range_s = end = None
    data = call.data() if call.name == "prometheus_range_query" else None
    if isinstance(data, dict) and isinstance(data.get("end"), str):
        end = data["end"]
        try:
            start_t = datetime.fromisoformat(str(data.get("start")).replace("Z", "+00:00"))
            range_s = int((datetime.fromisoformat(end.replace("Z", "+00:00")) - start_t).total_seconds())
        except ValueError:
            range_s = None
    return Evidence(
        call=call.number, tool=call.name, label=call.label, query=call.query_sent, range_s=range_s,
        end=end, graph=call.graphs[0] if call.graphs else None, quote=quote,
    )


def _call_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and (m := _CALL_REF.match(value)):
        return int(m.group(1))
    return None


def _choice(value: Any, allowed: tuple[str, ...], default: str) -> str:
    v = str(value).strip().lower() if isinstance(value, str) else ""
    return v if v in allowed else default


def _text(value: Any, limit: int, may_recommend: bool) -> str:
    """Model text for one field: one paragraph, bounded; for viewers without change commands."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if not may_recommend:
        text = split_recommendations(text)[0]
    text = squash(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_markdown(report: FindingsReport) -> str:
    """The checked findings as plain Markdown: kept in the answer text (thread history, the API,
    a re-shown answer); Slack shows the richer blocks instead."""
    lines: list[str] = []
    if report.findings:
        lines.append(texts.FINDINGS_HEADING)
        for f in report.findings:
            lines.append(f"• [{f.severity}, {f.confidence} confidence] {f.claim}")
            for ev in f.evidence:
                quote = f" — `{_tick(ev.quote)}`" if ev.quote else ""
                lines.append(f"    ◦ call {ev.call} `{_tick(ev.label)}`{quote}")
            if f.next_check:
                lines.append(f"    ◦ next: `{_tick(f.next_check)}`")
    elif not report.missing:
        lines.append(texts.FINDINGS_NONE)
    if report.unknown:
        lines.append(texts.FINDINGS_UNKNOWN.format(text=report.unknown))
    if report.next_checks:
        lines.append(texts.FINDINGS_NEXT + " " + "; ".join(report.next_checks))
    return "\n".join(lines)


_CHECKED_LINE = re.compile(r"^• \[(?P<severity>\w+), (?P<confidence>\w+) confidence\] (?P<claim>.+)$", re.M)


def unforgeable(prose: str) -> str:
    """The model's prose with any line shaped like a checked finding reshaped (`• (…`), so that
    only `to_markdown` can write what `checked_claims` reads back."""
    return _CHECKED_LINE.sub(lambda m: "• (" + m.group(0)[3:], prose)


def checked_claims(text: str) -> list[str]:
    """The checked findings `to_markdown` wrote into an answer's text (claim, with its confidence):
    what a postmortem may state as found. Unverified claims never reach the text, and prose cannot
    imitate these lines (`unforgeable`)."""
    if texts.FINDINGS_HEADING not in text:
        return []
    return [f"{m['claim']} ({m['confidence']} confidence)" for m in _CHECKED_LINE.finditer(text)]


def _tick(text: str) -> str:
    return squash(text).replace("`", "'")[:300]


_OPENER = re.compile(r"^[ \t]*```[ \t]*findings[ \t]*$")


class FindingsStreamFilter:
    """Streamed text without the findings block: the raw JSON never shows in the live message
    (the final rendering replaces it with the checked findings). Only a line that could open the
    block is held back until it is complete; everything else passes at once."""

    def __init__(self) -> None:
        self._held = ""
        self._inside = False
        self._line_start = True

    def feed(self, chunk: str) -> str:
        buf, self._held = self._held + chunk, ""
        out: list[str] = []
        while buf:
            nl = buf.find("\n")
            if self._inside or self._line_start:
                if nl == -1:
                    if self._inside or _may_open(buf):
                        self._held = buf
                    else:
                        out.append(buf)
                        self._line_start = False
                    break
                line, buf = buf[:nl], buf[nl + 1 :]
                if self._inside:
                    self._inside = line.strip() != "```"
                elif _OPENER.match(line):
                    self._inside = True
                else:
                    out.append(line + "\n")
                continue
            if nl == -1:
                out.append(buf)
                break
            out.append(buf[: nl + 1])
            buf, self._line_start = buf[nl + 1 :], True
        return "".join(out)

    def flush(self) -> str:
        rest, self._held = self._held, ""
        return "" if self._inside or _OPENER.match(rest) else rest


def _may_open(partial: str) -> bool:
    s = partial.lstrip(" \t")
    return "```findings".startswith(s) or s.startswith("```")
