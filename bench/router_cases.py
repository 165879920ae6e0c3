"""The tool outputs `bench/router.py` routes: the issue's two cases (50 Prometheus series, 100
pods, each in a schema of its own) and the Kubernetes list as production returns it: 100 pods
read from the API, summarized by the real tool's code, cut to its item cap and result budget,
and checked against its real schema (an anyOf of kinds, 1.2 kB per pod)."""

from __future__ import annotations

from typing import ClassVar

from tools.base import JSON, Tool, ToolContext
from tools.kubernetes.summarize import summarize
from tools.kubernetes.tools import MAX_LIST_ITEMS, K8sListTool, within_budget

_STR = {"type": "string"}
_NUM = {"type": "number"}


class InstantTool(Tool):
    """Returns the output it was handed: no I/O, so the router's own cost is what is left."""

    description: ClassVar[str] = "bench"
    input_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {"namespace": _STR, "query": _STR},
        "additionalProperties": False,
    }

    def __init__(self) -> None:
        self.output: JSON = {}

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        return self.output


class SeriesTool(InstantTool):
    name: ClassVar[str] = "bench_series"
    namespace_arg: ClassVar[str | None] = None
    output_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {
            "query_sent": _STR,
            "series": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "labels": {"type": "object", "additionalProperties": _STR},
                        "min": _NUM, "max": _NUM, "avg": _NUM, "last": _NUM,
                    },
                    "required": ["labels", "last"],
                },
            },
        },
        "required": ["series"],
    }  # fmt: skip


class PodsTool(InstantTool):
    name: ClassVar[str] = "bench_pods"
    output_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": _STR, "namespace": _STR, "phase": _STR, "node": _STR,
                        "restarts": {"type": "integer"},
                        "containers": {"type": "array", "items": {"type": "object"}},
                        "conditions": {"type": "array", "items": {"type": "object"}},
                        "owner": _STR,
                    },
                    "required": ["name", "namespace", "phase"],
                },
            }
        },
        "required": ["items"],
    }  # fmt: skip


def series_output(run: int) -> JSON:
    return {
        "query_sent": 'sum by (pod) (rate(http_requests_total{namespace="shop"}[5m]))',
        "series": [
            {
                "labels": {
                    "__name__": "http_requests_total", "namespace": "shop",
                    "pod": f"checkout-{run:04x}-{i:05d}", "job": "checkout",
                    "instance": f"10.0.{i // 250}.{i % 250}:8080", "code": "500",
                    "method": "GET", "route": f"/api/v1/orders/{i}",
                },
                "min": 0.1 * i, "max": 2.0 * i, "avg": 1.0 * i, "last": 1.5 * i,
            }
            for i in range(50)
        ],
    }  # fmt: skip


def pods_output(run: int) -> JSON:
    return {
        "items": [
            {
                "name": f"checkout-{run:04x}-{i:05d}", "namespace": "shop", "phase": "Running",
                "node": f"worker-{i % 5}", "restarts": i % 3, "owner": "ReplicaSet/checkout-7d9f8b6c5",
                "conditions": [
                    {"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}
                ],
                "containers": [
                    {
                        "name": "app", "image": "registry.example/shop/checkout:v1.4.2", "ready": True,
                        "restart_count": i % 3,
                        "last_termination": {"reason": "OOMKilled", "exit_code": 137} if i % 7 == 0 else None,
                        "requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"},
                        "env": [{"name": "MODE", "value": "prod"}, {"name": "DB_PASSWORD", "value": "x"}],
                    }
                ],
            }
            for i in range(100)
        ]
    }  # fmt: skip


class K8sListBench(InstantTool):
    name: ClassVar[str] = "bench_k8s_list"
    output_schema: ClassVar[JSON] = K8sListTool.output_schema
    long_text_fields: ClassVar[frozenset[str]] = K8sListTool.long_text_fields


def api_pod(run: int, i: int) -> JSON:
    """A Running pod as the API server returns it (the fields the summary reads)."""
    name = f"checkout-{run:04x}-{i:05d}"
    started = {"startedAt": "2026-11-29T10:00:10Z"}
    last = {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2026-11-29T09:59:00Z"}}
    return {
        "metadata": {
            "name": name, "namespace": "shop", "creationTimestamp": "2026-11-29T10:00:00Z",
            "labels": {"app": "checkout", "pod-template-hash": f"{run:04x}"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-01T10:00:00Z"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": f"checkout-{run:04x}", "controller": True}],
        },
        "spec": {
            "nodeName": f"worker-{i % 5}",
            "containers": [{
                "name": "app", "image": "registry.example/shop/checkout:v1.4.2",
                "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
                "env": [{"name": "MODE", "value": "prod"}, {"name": "DB_PASSWORD", "value": "x"}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
            }],
        },
        "status": {
            "phase": "Running", "startTime": "2026-11-29T10:00:05Z",
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-29T10:00:30Z"},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-29T10:00:01Z"},
            ],
            "containerStatuses": [{
                "name": "app", "ready": True, "started": True, "restartCount": i % 3,
                "state": {"running": started}, "lastState": last if i % 7 == 0 else {},
            }],
        },
    }  # fmt: skip


def k8s_list_output(run: int) -> JSON:
    """What `K8sListTool` returns for a namespace of 100 such pods: summaries within its budget."""
    items = [summarize("pod", api_pod(run, i)) for i in range(100)]
    shown = within_budget(items, max_items=MAX_LIST_ITEMS)
    return {
        "kind": "pod", "namespaces": ["shop"], "count": len(items), "truncated": len(shown) < len(items),
        "hint": f"showing {len(shown)} of {len(items)} pod(s)", "items": shown,
    }  # fmt: skip
