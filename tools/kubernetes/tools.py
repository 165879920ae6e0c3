"""The four Kubernetes tools the model sees (BRIEF §3): k8s_list, k8s_get, k8s_events, k8s_pod_logs.

Each returns summaries (tools/kubernetes/summarize.py), never raw objects, and touches only the
namespaces of the job's scope (tools/kubernetes/scoping.py). Logs are bounded to 500 lines and
64 KB, trimmed from the oldest end on line boundaries.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from kernel.errors import BackendError, ToolError
from tools.base import JSON, Tool, ToolContext
from tools.kubernetes import messages as msg
from tools.kubernetes import schemas
from tools.kubernetes.client import KINDS, KubernetesClient
from tools.kubernetes.scoping import (
    allowed_text,
    check_cluster_wide,
    check_namespace,
    list_scoped,
)
from tools.kubernetes.summarize import summarize

MAX_LIST_ITEMS = 50
MAX_EVENTS = 100
MAX_LOG_LINES = 500
DEFAULT_LOG_LINES = 200
MAX_LOG_BYTES = 64 * 1024
MAX_LOG_LINE_CHARS = 4000
RESULT_BUDGET_CHARS = 45_000
"""Encoded size we let one result reach: the router refuses results over 60,000 characters
(`DEFAULT_MAX_RESULT_CHARS`), after JSON encoding and `<>&` escaping — stay well inside it."""
_OBJECT_REF = re.compile(r"^(?:([A-Za-z]+)/)?([A-Za-z0-9][A-Za-z0-9._:-]*)$")
LONG_TEXT = frozenset({"message", "state_message", "lines"})


def encoded_size(value: Any) -> int:
    """Characters `value` takes in the router's wrapped result (JSON, `<>&` as 6-char escapes)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(text) + 5 * sum(text.count(ch) for ch in "<>&")


def within_budget(items: list[JSON], *, max_items: int) -> list[JSON]:
    """The leading items that fit both the item cap and the result budget."""
    kept: list[JSON] = []
    size = 0
    for item in items[:max_items]:
        size += encoded_size(item) + 1
        if size > RESULT_BUDGET_CHARS:
            break
        kept.append(item)
    return kept


def _healthy(summary: JSON) -> bool:
    """Used to put problems first when a list is cut."""
    if summary["kind"] == "pod":
        if summary["phase"] == "Succeeded":
            return True
        return bool(
            summary["phase"] == "Running" and all(c["ready"] or c["init"] for c in summary["containers"])
        )
    replicas = summary.get("replicas")
    if isinstance(replicas, dict):
        return not replicas["unavailable"]
    if summary["kind"] == "event":
        return bool(summary["type"] != "Warning")
    return True


class _K8sTool(Tool):
    long_text_fields: ClassVar[frozenset[str]] = LONG_TEXT

    def __init__(self, *, client: KubernetesClient) -> None:
        self.client = client


class K8sListTool(_K8sTool):
    name = "k8s_list"
    description = (
        "List Kubernetes resources of one kind as summaries (pods: phase, conditions, per-container "
        "ready/restarts/state/last termination; workloads: replicas and conditions). Omit `namespace` to "
        'cover every namespace you may read. `namespaces: ["*"]` in the result means all namespaces.'
    )
    input_schema = schemas.LIST_INPUT
    output_schema = schemas.LIST_OUTPUT

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        kind = args["kind"]
        selector = args.get("label_selector")
        try:
            covered, raw = await list_scoped(
                self.client, kind, ctx.scope, args.get("namespace"), tool=self.name, label_selector=selector
            )
        except BackendError as exc:
            if selector and " 400:" in str(exc):
                raise ToolError(msg.BAD_SELECTOR.format(selector=selector, detail=str(exc))) from None
            raise
        items = [summarize(kind, o) for o in raw]
        if kind == "event":
            items.sort(key=lambda e: e["last_timestamp"] or "", reverse=True)
        else:
            items.sort(key=lambda s: (_healthy(s), s.get("namespace") or "", s["name"]))
        total = len(items)
        items = within_budget(items, max_items=MAX_LIST_ITEMS)
        cut = len(items) < total
        return {
            "kind": kind,
            "namespaces": covered,
            "count": total,
            "truncated": cut,
            "hint": msg.LIST_TRUNCATED.format(shown=len(items), total=total, kind=kind) if cut else None,
            "items": items,
        }


class K8sGetTool(_K8sTool):
    name = "k8s_get"
    description = (
        "Get one Kubernetes resource by kind and name, as a summary (never raw specs: env values are "
        "redacted, Secrets and ConfigMap data are never shown)."
    )
    input_schema = schemas.GET_INPUT
    output_schema = schemas.GET_OUTPUT

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        kind, name = args["kind"], args["name"]
        namespace = args.get("namespace")
        if not KINDS[kind].namespaced:
            check_cluster_wide(ctx.scope)
            namespace = None
        elif namespace:
            check_namespace(ctx.scope, namespace)
        elif ctx.scope.namespaces is not None and len(ctx.scope.namespaces) == 1:
            namespace = next(iter(ctx.scope.namespaces))
        else:
            raise ToolError(
                msg.NAMESPACE_REQUIRED.format(kind=kind, tool=self.name, allowed=allowed_text(ctx.scope))
            )
        obj = await self.client.get(kind, name, namespace)
        if obj is None:
            raise ToolError(
                msg.NOT_FOUND.format(
                    kind=kind,
                    name=name,
                    where=f"namespace {namespace!r}" if namespace else "the cluster",
                    ns_arg=f', "namespace": "{namespace}"' if namespace else "",
                )
            )
        meta = obj.get("metadata") or {}
        if namespace is not None:
            check_namespace(ctx.scope, str(meta.get("namespace") or ""))  # after the call, too
        return {"kind": kind, "item": summarize(kind, obj)}


class K8sEventsTool(_K8sTool):
    name = "k8s_events"
    description = (
        "Recent Kubernetes events (type, reason, message, involved object, count, last seen), newest "
        "first. Filter by `involved_object` (`name` or `Kind/name`) to see why one pod or deployment "
        "is unhealthy (scheduling failures, probe failures, image pulls, back-offs)."
    )
    input_schema = schemas.EVENTS_INPUT
    output_schema = schemas.EVENTS_OUTPUT

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        field_selector = None
        ref = args.get("involved_object")
        if ref:
            m = _OBJECT_REF.match(ref)
            if not m:
                raise ToolError(msg.BAD_INVOLVED_OBJECT.format(value=ref))
            field_selector = f"involvedObject.name={m[2]}"
            if m[1]:
                field_selector += f",involvedObject.kind={_kind_name(m[1])}"
        covered, raw = await list_scoped(
            self.client,
            "event",
            ctx.scope,
            args.get("namespace"),
            tool=self.name,
            field_selector=field_selector,
        )
        items = sorted(
            (summarize("event", o) for o in raw), key=lambda e: e["last_timestamp"] or "", reverse=True
        )
        total = len(items)
        kept = within_budget(items, max_items=MAX_EVENTS)
        cut = len(kept) < total
        return {
            "namespaces": covered,
            "count": total,
            "truncated": cut,
            "hint": msg.EVENTS_TRUNCATED.format(shown=len(kept), total=total) if cut else None,
            "items": kept,
        }


def _kind_name(kind: str) -> str:
    """`pod`/`Pod`/`hpa` → the API's Kind spelling for involvedObject.kind."""
    known = {
        "pod": "Pod",
        "deployment": "Deployment",
        "statefulset": "StatefulSet",
        "daemonset": "DaemonSet",
        "replicaset": "ReplicaSet",
        "job": "Job",
        "cronjob": "CronJob",
        "service": "Service",
        "hpa": "HorizontalPodAutoscaler",
        "node": "Node",
        "pvc": "PersistentVolumeClaim",
        "persistentvolumeclaim": "PersistentVolumeClaim",
        "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    }
    return known.get(kind.lower(), kind)


def bound_log(text: str, *, tail_lines: int) -> tuple[list[str], bool]:
    """The newest `tail_lines` lines within MAX_LOG_BYTES (and the result budget once encoded),
    trimmed from the oldest end on line boundaries; a single overlong line is cut at
    MAX_LOG_LINE_CHARS. Returns (lines, trimmed)."""
    lines = text.splitlines()
    trimmed = len(lines) > tail_lines
    lines = lines[-tail_lines:] if tail_lines > 0 else []
    out: list[str] = []
    size = encoded = 0
    for line in reversed(lines):
        if len(line) > MAX_LOG_LINE_CHARS:
            line = line[:MAX_LOG_LINE_CHARS] + msg.LOG_LINE_CUT
            trimmed = True
        cost, enc = len(line.encode()) + 1, encoded_size(line) + 1
        if size + cost > MAX_LOG_BYTES or encoded + enc > RESULT_BUDGET_CHARS:
            trimmed = True
            break
        out.append(line)
        size, encoded = size + cost, encoded + enc
    out.reverse()
    return out, trimmed


class K8sPodLogsTool(_K8sTool):
    name = "k8s_pod_logs"
    description = (
        "The newest log lines of one pod's container (at most 500 lines / 64 KB; older lines are "
        "trimmed). Set `previous: true` for the crashed instance of a restarting container."
    )
    input_schema = schemas.LOGS_INPUT
    output_schema = schemas.LOGS_OUTPUT

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        namespace, pod = args["namespace"], args["pod"]
        check_namespace(ctx.scope, namespace)
        tail = max(1, min(int(args.get("tail_lines") or DEFAULT_LOG_LINES), MAX_LOG_LINES))
        previous = bool(args.get("previous", False))
        container = args.get("container")
        notes: list[str] = []
        if not container:
            container, others = await self._default_container(namespace, pod)
            if others:
                notes.append(msg.LOG_CONTAINER_CHOSEN.format(container=container, others=", ".join(others)))
        text = await self.client.pod_logs(
            namespace, pod, container=container, tail_lines=tail, previous=previous
        )
        if text is None:
            raise ToolError(msg.POD_NOT_FOUND.format(pod=pod, namespace=namespace))
        lines, trimmed = bound_log(text, tail_lines=tail)
        if trimmed and len(lines) < tail:
            notes.append(msg.LOG_TRIMMED.format(shown=len(lines), limit_kb=MAX_LOG_BYTES // 1024))
        return {
            "namespace": namespace,
            "pod": pod,
            "container": container,
            "previous": previous,
            "lines": "\n".join(lines),
            "line_count": len(lines),
            "truncated": trimmed,
            "note": " ".join(notes) or None,
        }

    async def _default_container(self, namespace: str, pod: str) -> tuple[str, list[str]]:
        obj = await self.client.get("pod", pod, namespace)
        if obj is None:
            raise ToolError(msg.POD_NOT_FOUND.format(pod=pod, namespace=namespace))
        names = [str(c.get("name")) for c in (obj.get("spec") or {}).get("containers") or []]
        if not names:
            raise ToolError(msg.CONTAINER_NOT_FOUND.format(pod=pod, container="", containers="none"))
        annotations: dict[str, Any] = (obj.get("metadata") or {}).get("annotations") or {}
        chosen = annotations.get("kubectl.kubernetes.io/default-container")
        if chosen not in names:
            chosen = names[0]
        return str(chosen), [n for n in names if n != chosen]


def kubernetes_tools(*, client: KubernetesClient) -> list[Tool]:
    """The four tools, for the registry."""
    return [
        K8sListTool(client=client),
        K8sGetTool(client=client),
        K8sEventsTool(client=client),
        K8sPodLogsTool(client=client),
    ]
