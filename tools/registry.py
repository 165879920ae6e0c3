"""The explicit list of tools the model can use. Adding a tool = one module + one line here.

Data sources that are not configured (no PROMETHEUS_URL, no cluster access, no runbook
index) simply contribute no tools; the model never sees a tool that cannot work. Duplicate
names fail at start-up (here and again in the router).
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.analyzers.tool import AnalyzeTool
from tools.base import Tool
from tools.kubernetes.changes import ChangeHistory, K8sChangesTool
from tools.kubernetes.client import KubernetesClient
from tools.kubernetes.tools import kubernetes_tools
from tools.prometheus.client import PrometheusClient
from tools.prometheus.tools import PrometheusAlertsTool, PrometheusQueryTool, PrometheusRangeQueryTool
from tools.runbooks.index import RunbookIndex
from tools.runbooks.tool import RunbookSearchTool


def build_tools(
    *,
    prometheus: PrometheusClient | None = None,
    kubernetes: KubernetesClient | None = None,
    runbooks: RunbookIndex | None = None,
    change_history: ChangeHistory | None = None,
    extra: Sequence[Tool] = (),
) -> list[Tool]:
    tools: list[Tool] = []
    if prometheus is not None:
        tools += [
            PrometheusQueryTool(client=prometheus),
            PrometheusRangeQueryTool(client=prometheus),
            PrometheusAlertsTool(client=prometheus),
        ]
    if kubernetes is not None:
        tools += kubernetes_tools(client=kubernetes)
        tools.append(K8sChangesTool(client=kubernetes, history=change_history))
        tools.append(AnalyzeTool(client=kubernetes, alerts=prometheus.alerts if prometheus else None))
    if runbooks is not None:
        tools.append(RunbookSearchTool(index=runbooks))
    tools += extra
    check_unique(tools)
    return tools


def check_unique(tools: Sequence[Tool]) -> None:
    seen: set[str] = set()
    for tool in tools:
        if tool.name in seen:
            raise ValueError(f"duplicate tool name {tool.name!r}")
        seen.add(tool.name)
