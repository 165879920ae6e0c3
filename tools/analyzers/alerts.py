"""Firing alerts as findings, so offline mode and triage see them next to the cluster state.

Accepts both Prometheus `/api/v1/alerts` items (`state: firing`) and Alertmanager alerts
(`status.state: active`). Alerts are already restricted to the scope by the state builder.
"""

from __future__ import annotations

from typing import Any

from tools.analyzers.base import ClusterState, Finding, Severity, tool_call

_SEVERITIES: dict[str, Severity] = {
    "critical": "critical",
    "page": "critical",
    "error": "critical",
    "warning": "warning",
    "warn": "warning",
}
_RESOURCE_LABELS = (
    ("pod", "pod"),
    ("deployment", "deployment"),
    ("statefulset", "statefulset"),
    ("daemonset", "daemonset"),
    ("job_name", "job"),
    ("persistentvolumeclaim", "pvc"),
    ("node", "node"),
)


def is_firing(alert: dict[str, Any]) -> bool:
    status = alert.get("status")
    state = alert.get("state") or (status.get("state") if isinstance(status, dict) else None)
    return state in ("firing", "active")


def alert_namespace(alert: dict[str, Any]) -> str | None:
    labels = alert.get("labels")
    ns = labels.get("namespace") if isinstance(labels, dict) else None
    return str(ns) if ns else None


def firing_alerts(state: ClusterState) -> list[Finding]:
    out = []
    for alert in state.alerts:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        notes = {str(k): str(v) for k, v in (alert.get("annotations") or {}).items()}
        name = labels.get("alertname", "unnamed alert")
        ns = labels.get("namespace") or None
        kind, target = next(
            ((k, labels[lbl]) for lbl, k in _RESOURCE_LABELS if labels.get(lbl)), ("alert", name)
        )
        text = (
            notes.get("summary")
            or notes.get("description")
            or notes.get("message")
            or "no summary annotation"
        )
        since = alert.get("activeAt") or alert.get("startsAt") or "?"
        out.append(
            Finding(
                analyzer="firing_alert",
                severity=_SEVERITIES.get(labels.get("severity", "").lower(), "info"),
                namespace=ns,
                kind=kind,
                name=target,
                summary=f"Alert {name} is firing since {since}: {text}",
                evidence=tuple(
                    [f"labels: {', '.join(f'{k}={v}' for k, v in sorted(labels.items()))}"]
                    + (
                        [f"description: {notes['description']}"]
                        if "description" in notes and "summary" in notes
                        else []
                    )
                    + ([f"runbook: {notes['runbook_url']}"] if "runbook_url" in notes else [])
                ),
                next_query=(
                    tool_call("k8s_get", kind=kind, name=target, **({"namespace": ns} if ns else {}))
                    if kind != "alert"
                    else tool_call("prometheus_alerts", **({"namespace": ns} if ns else {}))
                ),
            )
        )
    return out
