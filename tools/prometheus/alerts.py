"""Active alerts from `/api/v1/alerts`, filtered by their `namespace` label (as prom-label-proxy
does for `/alerts`). An alert without a namespace label is cluster-level: admin (cluster-wide) only.
The analyzers use `scoped_alerts()` too, so both paths apply the same rule."""

from __future__ import annotations

from typing import Any

from kernel.scope import EffectiveScope

DEFAULT_MAX_ALERTS = 50
_STATE_ORDER = {"firing": 0, "pending": 1}
_SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "info": 3}


def scoped_alerts(
    raw: list[dict[str, Any]], scope: EffectiveScope, *, namespace: str | None = None
) -> list[dict[str, Any]]:
    """Alerts this scope may see (optionally only `namespace`), as compact dicts, most urgent first."""
    out: list[dict[str, Any]] = []
    for alert in raw:
        labels = {str(k): str(v) for k, v in dict(alert.get("labels") or {}).items()}
        ns = labels.get("namespace") or None
        if not scope.allows(ns):
            continue
        if namespace is not None and ns != namespace:
            continue
        annotations = {str(k): str(v) for k, v in dict(alert.get("annotations") or {}).items()}
        out.append(
            {
                "name": labels.get("alertname", ""),
                "namespace": ns,
                "severity": labels.get("severity"),
                "state": str(alert.get("state", "")),
                "active_at": alert.get("activeAt"),
                "labels": labels,
                "summary": annotations.pop("summary", None),
                "description": annotations.pop("description", None),
                "annotations": annotations,
            }
        )
    out.sort(
        key=lambda a: (
            _STATE_ORDER.get(a["state"], 2),
            _SEVERITY_ORDER.get(str(a["severity"]), 4),
            a["name"],
            a["namespace"] or "",
        )
    )
    return out
