"""Compact, human-readable descriptions of what a tool call read (for the answer's evidence
line). Built from the model's tool *inputs* — PromQL strings and resource coordinates — never
from tool results, so no cluster content or metric values end up here."""

from __future__ import annotations

import json
from typing import Any


def describe_call(name: str, args: dict[str, Any]) -> str:
    a = {k: v for k, v in args.items() if v not in (None, "", [], {})}
    ns = a.get("namespace")
    where = f" in {ns}" if ns else ""
    if name in ("prometheus_query", "prometheus_range_query"):
        return str(a.get("query", ""))
    if name == "k8s_list":
        sel = f" ({a['label_selector']})" if a.get("label_selector") else ""
        return f"{a.get('kind', '?')}{where}{sel}"
    if name == "k8s_get":
        return "/".join(str(x) for x in (a.get("kind"), ns, a.get("name")) if x)
    if name == "k8s_events":
        obj = f" for {a['involved_object']}" if a.get("involved_object") else ""
        return f"events{where}{obj}"
    if name == "k8s_pod_logs":
        return f"logs {ns}/{a.get('pod', '?')}" + (f"/{a['container']}" if a.get("container") else "")
    if name == "prometheus_alerts":
        return f"alerts{where}"
    if name == "analyze":
        return f"analyzers{where}"
    if name == "runbook_search":
        return f"runbooks: {a.get('query', '')}"
    return f"{name} {json.dumps(a, sort_keys=True)[:120]}"
