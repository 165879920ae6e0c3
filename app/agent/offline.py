"""Offline mode: when Claude is unavailable (no key, or it stays down), answer from the
deterministic analyzers and the firing alerts for the effective scope — clearly labelled.

It answers *the question*: the namespaces, workloads or pods it names (app/agent/focus.py; for an
alert, the alert's namespace and labels) come first, in full, with the decisive log lines whole;
then at most a short "also in your scope" list. A focus with nothing wrong says so; a namespace
outside the scope is refused plainly — by asking the router for it, so the refusal is the
router's own (`security` audit row, metric) and no data is read.

The analyzers are called *through the router* like any model tool call, so scope enforcement,
sanitizing and the `tool_call` audit rows all still apply. The formatting never interprets the
data; it lays out fields as text (app/agent/offline_format.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from app.agent import texts
from app.agent.base import AgentAnswer
from app.agent.evidence import CallRecord, describe_call
from app.agent.focus import Focus, alert_focus, names_match, question_focus, words
from app.agent.offline_changes import WINDOW as CHANGES_WINDOW
from app.agent.offline_changes import changes_section
from app.agent.offline_findings import analyzer_report, finding_key
from app.agent.offline_format import (
    alert_line,
    alerts_of,
    finding_detail,
    finding_line,
    findings_of,
    slack_safe,
    unwrap,
)
from kernel.scope import EffectiveScope
from tools.base import ToolContext

__all__ = ["OfflineResponder", "unwrap"]

JSON = dict[str, Any]
MAX_ITEMS = 15
MAX_DETAILED = 8
"""Unfocused answers: this many findings in full, the rest as one line each (up to MAX_ITEMS)."""
MAX_FOCUSED = 10
MAX_ALSO = 5
MAX_NAMESPACES = 10


@dataclass
class _Gathered:
    findings: list[Any] = field(default_factory=list)
    alerts: list[JSON] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    audit: list[JSON] = field(default_factory=list)
    artifacts: list[Any] = field(default_factory=list)
    calls: list[tuple[str, JSON]] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)
    origin: dict[str, int] = field(default_factory=dict)
    """Finding key → the number of the `analyze` call that returned it."""
    changes: list[Any] = field(default_factory=list)


class OfflineResponder:
    def __init__(self, *, router: Any | None) -> None:
        self._router = router

    async def answer(
        self,
        *,
        job_id: str,
        session_id: str | None,
        scope: EffectiveScope,
        reason: str,
        question: str = "",
        alert: dict[str, Any] | None = None,
    ) -> AgentAnswer:
        header = texts.OFFLINE_HEADER.format(reason=reason, scope=scope.describe())
        if self._router is None:
            return AgentAnswer(text=f"{header}\n\n{texts.OFFLINE_NO_TOOLS}", offline=True)
        ctx = ToolContext(scope=scope, job_id=job_id, session_id=session_id)
        available = {t["name"] for t in self._router.catalog(scope)}
        if not available & {"analyze", "prometheus_alerts"}:
            return AgentAnswer(text=f"{header}\n\n{texts.OFFLINE_NO_TOOLS}", offline=True)
        known = sorted(scope.namespaces) if scope.namespaces is not None else []
        focus = alert_focus(alert) if alert else question_focus(question, known)
        got = _Gathered()
        allowed = [ns for ns in focus.namespaces if scope.allows(ns)]
        if "analyze" in available:
            if scope.namespaces is None:
                plan = [{"namespace": ns} for ns in allowed[:MAX_NAMESPACES]] + [{}]
            else:  # the named namespaces first, so the cap never drops the one asked about
                order = [*allowed, *(ns for ns in known if ns not in allowed)]
                plan = [{"namespace": ns} for ns in order[:MAX_NAMESPACES]]
            for args in plan:
                await self._call("analyze", args, ctx, got)
        if "prometheus_alerts" in available:
            await self._call("prometheus_alerts", {}, ctx, got)
        if alert and "k8s_changes" in available:  # an alert's first question: what changed?
            for ns in allowed[:1]:
                await self._call("k8s_changes", {"namespace": ns, "since": CHANGES_WINDOW}, ctx, got)
        focus = _resolve(focus, question, got.findings, scope)
        if "analyze" in available:
            for ns in [ns for ns in focus.namespaces if not scope.allows(ns)][:MAX_NAMESPACES]:
                await self._call("analyze", {"namespace": ns}, ctx, got)  # refused and audited
                got.denied.append(ns)
        lead = [section] if (section := changes_section(got.changes)) else []
        main, after = _body(focus, got, scope)
        text = "\n\n".join([header, *lead, *main, *after])
        evidence = [describe_call(name, args) for name, args in got.calls]
        answer = AgentAnswer(
            text=text, tool_calls=got.audit, artifacts=got.artifacts, offline=True, evidence=evidence
        )
        carded = _carded(focus, got, scope)
        if carded is not None:
            # The same structure as a model's cited findings. Slack shows them as blocks between
            # the part about the question and the rest; the text keeps them (history, the API).
            answer.findings = analyzer_report(
                carded, got.origin, got.records, may_recommend=scope.may_recommend
            )
            main, after = _body(focus, got, scope, cards=True)
            answer.body = "\n\n".join([header, *lead, *main])
            answer.findings.appendix = "\n\n".join(after) or None
        return answer

    async def _call(self, name: str, args: JSON, ctx: ToolContext, got: _Gathered) -> None:
        assert self._router is not None
        outcome = await self._router.invoke(name, args, ctx, f"offline_{uuid.uuid4().hex[:12]}")
        got.calls.append((name, args))
        number = len(got.records) + 1
        got.records.append(CallRecord(number=number, name=name, args=args, content=outcome.content,
                                      is_error=outcome.is_error))
        got.audit.append(outcome.audit)
        got.artifacts.extend(outcome.artifacts)
        data = unwrap(outcome.content)
        if outcome.is_error:
            if not (name == "analyze" and args.get("namespace") and not ctx.scope.allows(args["namespace"])):
                got.problems.append(texts.OFFLINE_TOOL_FAILED.format(tool=name, error=slack_safe(data, 200)))
        elif name == "analyze":
            for f in findings_of(data):
                if (key := finding_key(f)) not in got.origin:
                    got.origin[key] = number
                    got.findings.append(f)
        elif name == "k8s_changes":
            got.changes += data.get("items") or [] if isinstance(data, dict) else []
        else:
            got.alerts += alerts_of(data)


_RANK = {"critical": 0, "warning": 1, "info": 2}


def _by_severity(findings: list[Any]) -> list[Any]:
    return sorted(findings, key=lambda f: _RANK.get(str(f.get("severity")), 3) if isinstance(f, dict) else 3)


def _resolve(focus: Focus, question: str, findings: list[Any], scope: EffectiveScope) -> Focus:
    """A word after `in` that names something a finding is about is a workload, not a namespace;
    any other word of the question naming a finding's resource joins the focus."""
    names = [str(f.get("name")) for f in findings if isinstance(f, dict) and f.get("name")]
    resolved = Focus(names=list(focus.names))
    for ns in focus.namespaces:
        if not scope.allows(ns) and any(names_match(n, ns) for n in names):
            resolved.names.append(ns)
        else:
            resolved.namespaces.append(ns)
    for word in sorted(words(question)):
        if (
            word not in resolved.names
            and word not in resolved.namespaces
            and any(names_match(n, word) for n in names)
        ):
            resolved.names.append(word)
    return resolved


def _about(f: Any, focus: Focus) -> bool:
    if not isinstance(f, dict):
        return False
    ns, name = f.get("namespace"), str(f.get("name") or f.get("resource") or "")
    name = name.rsplit("/", 1)[-1]
    in_ns = not focus.namespaces or ns in focus.namespaces
    if focus.names:
        return in_ns and any(names_match(name, w) for w in focus.names)
    return ns in focus.namespaces


def _alert_about(a: JSON, focus: Focus) -> bool:
    labels = a.get("labels") or {}
    ns = labels.get("namespace")
    values = [str(v) for v in labels.values()]
    in_ns = not focus.namespaces or ns in focus.namespaces
    if focus.names:
        return in_ns and any(names_match(v, w) for v in values for w in focus.names)
    return ns in focus.namespaces


def _visible(focus: Focus, scope: EffectiveScope) -> Focus:
    return Focus(namespaces=[ns for ns in focus.namespaces if scope.allows(ns)], names=focus.names)


def _carded(focus: Focus, got: _Gathered, scope: EffectiveScope) -> list[Any] | None:
    """The analyzer findings that answer the question (all of them, most severe first, when
    nothing was named): shown as cited findings. None when only refused namespaces were asked about."""
    visible = _visible(focus, scope)
    if not visible:
        return None if focus.namespaces else _by_severity(got.findings)
    return _by_severity([f for f in got.findings if _about(f, visible)])


def _body(
    focus: Focus, got: _Gathered, scope: EffectiveScope, *, cards: bool = False
) -> tuple[list[str], list[str]]:
    """(the parts about the question, the parts after it). `cards`: the findings `_carded`
    returns are left out — Slack shows them as cited-finding blocks between the two."""
    parts = [
        texts.OFFLINE_OUT_OF_SCOPE.format(namespace=slack_safe(ns, 80), scope=scope.describe())
        for ns in got.denied
    ]
    visible = _visible(focus, scope)
    if not visible:
        if focus.namespaces:  # only out-of-scope namespaces were asked about
            return parts, got.problems
        return parts + ([] if cards else _unfocused_findings(got)), _unfocused_rest(got) + got.problems
    mine = _by_severity([f for f in got.findings if _about(f, visible)])
    rest = _by_severity([f for f in got.findings if not _about(f, visible)])
    my_alerts = [a for a in got.alerts if _alert_about(a, visible)]
    other_alerts = [a for a in got.alerts if not _alert_about(a, visible)]
    label = slack_safe(visible.describe(), 200)
    shown = [] if cards else mine
    if shown or my_alerts:
        section = [texts.OFFLINE_FOCUS.format(focus=label)] + [finding_detail(f) for f in shown[:MAX_FOCUSED]]
        if len(shown) > MAX_FOCUSED:
            section.append(texts.OFFLINE_MORE.format(count=len(shown) - MAX_FOCUSED))
        section += [alert_line(a) for a in my_alerts[:MAX_ITEMS]]
        parts.append("\n".join(section))
    parts += _healthy(visible, mine + my_alerts, scope)
    after = []
    also = [finding_line(f, limit=160) for f in rest] + [alert_line(a) for a in other_alerts]
    if also:
        lines = also[:MAX_ALSO]
        if len(also) > MAX_ALSO:
            lines.append(texts.OFFLINE_MORE.format(count=len(also) - MAX_ALSO))
        after.append(texts.OFFLINE_ALSO + "\n" + "\n".join(lines))
    elif not got.findings and not got.alerts and not got.problems:
        after.append(texts.OFFLINE_NO_FINDINGS)
    return parts, after + got.problems


def _healthy(visible: Focus, matched: list[Any], scope: EffectiveScope) -> list[str]:
    """'Nothing wrong found' for each named namespace or workload that matched nothing."""
    out = []
    for ns in visible.namespaces:
        if not any(isinstance(f, dict) and _ns_of(f) == ns for f in matched):
            out.append(texts.OFFLINE_NOTHING_IN_NAMESPACE.format(namespace=slack_safe(ns, 80)))
    where = slack_safe(", ".join(visible.namespaces) or scope.describe())
    for name in visible.names:
        one = Focus(namespaces=visible.namespaces, names=[name])
        if not any(
            _about(item, one) or _alert_about(item, one) for item in matched if isinstance(item, dict)
        ):
            out.append(texts.OFFLINE_NOTHING_FOR_NAME.format(name=slack_safe(name, 80), where=where))
    return out


def _ns_of(item: JSON) -> Any:
    return item.get("namespace") or (item.get("labels") or {}).get("namespace")


def _unfocused_findings(got: _Gathered) -> list[str]:
    """No namespace or workload named: every finding in scope, the most severe in full."""
    findings = _by_severity(got.findings)
    if not findings:
        return []
    lines = [finding_detail(f) for f in findings[:MAX_DETAILED]]
    lines += [finding_line(f, limit=200) for f in findings[MAX_DETAILED:MAX_ITEMS]]
    if len(findings) > MAX_ITEMS:
        lines.append(texts.OFFLINE_MORE.format(count=len(findings) - MAX_ITEMS))
    return [texts.OFFLINE_FINDINGS + "\n" + "\n".join(lines)]


def _unfocused_rest(got: _Gathered) -> list[str]:
    parts = []
    if got.alerts:
        parts.append(texts.OFFLINE_ALERTS + "\n" + "\n".join(alert_line(a) for a in got.alerts[:MAX_ITEMS]))
    if not got.findings and not got.alerts and not got.problems:
        parts.append(texts.OFFLINE_NO_FINDINGS)
    return parts
