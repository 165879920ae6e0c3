"""Offline mode's findings: the analyzers' results in the same checked structure as the model's.

Each analyzer finding becomes a claim (its summary) citing the `analyze` call that returned it,
quoting its decisive evidence line (the error line of a crashed container's log, else its first
evidence item), and is run through the same checker as a model's block (app/agent/findings.py),
so the quote is verified against that call's sanitized result like any other. Confidence is
`high`: an analyzer reports only what it observed in the cluster state.
"""

from __future__ import annotations

from typing import Any

from app.agent import texts
from app.agent.evidence import CallRecord
from app.agent.findings import MAX_QUOTE, FindingsReport, check
from app.agent.offline_format import decisive_lines, finding_where, first

JSON = dict[str, Any]


def analyzer_report(
    findings: list[Any], origin: dict[str, int], calls: list[CallRecord], *, may_recommend: bool
) -> FindingsReport:
    """`findings` in display order; `origin`: finding key → number of the call that returned it."""
    items = []
    for f in findings:
        if not isinstance(f, dict) or (call := origin.get(finding_key(f))) is None:
            continue
        ref: JSON = {"call": call}
        if quote := _quote(f):
            ref["quote"] = quote
        where = finding_where(f)
        claim = str(first(f, "summary", "title", "message") or "finding") + (f" ({where})" if where else "")
        item: JSON = {"claim": claim, "severity": f.get("severity"), "confidence": "high", "evidence": [ref]}
        if isinstance(f.get("next_query"), str) and f["next_query"]:
            item["next"] = f["next_query"]
        items.append(item)
    raw: JSON = {"findings": items}
    if not items:
        raw["unknown"] = texts.OFFLINE_FINDINGS_UNKNOWN
    report = check(raw, calls, may_recommend=may_recommend, by_severity=False)  # the focus first
    report.source = "analyzers"
    return report


def finding_key(f: Any) -> str:
    return repr(sorted(f.items())) if isinstance(f, dict) else repr(f)


def _quote(f: JSON) -> str | None:
    evidence = f.get("evidence")
    items = [str(e) for e in evidence] if isinstance(evidence, list) else [str(evidence)] if evidence else []
    for item in items:
        if "\n" in item:  # a log excerpt: its decisive line
            lines, _ = decisive_lines(item.split("\n")[1:])
            if lines:
                return lines[-1][:MAX_QUOTE]
    return items[0].split("\n")[0][:MAX_QUOTE] if items else None
