"""`k8s_changes {namespace?, since?}`: what changed, newest first (BRIEF §3, wave 2).

Two sources, merged: what the cluster still holds (ReplicaSet and ControllerRevision revisions with
their image diffs, HPA `lastScaleTime`, `managedFields` writes, failed Jobs, node cordons and
pressure — tools/kubernetes/changes_extract.py) and, when configured, the change records our
watcher kept in PostgreSQL (app/changes) for what Kubernetes forgets: earlier scalings, deleted
Jobs, condition flips that have flipped back.

Scope: the namespaces come from tools/kubernetes/scoping.py exactly like k8s_list (a scoped user
never causes a cluster-wide list); nodes only for cluster-wide scopes; recorded changes are
queried for the same namespaces. ConfigMaps are read as metadata only (`list_metadata`), Secrets
never.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Protocol

from kernel.errors import ToolError
from kernel.scope import EffectiveScope
from tools.base import JSON, Tool, ToolContext
from tools.kubernetes import changes_extract as ex
from tools.kubernetes.client import KubernetesClient
from tools.kubernetes.schemas import BOOL, INT, NAMESPACE_IN, OPT_INT, OPT_STR, STR, STR_LIST, obj
from tools.kubernetes.scoping import ALL, list_metadata_scoped, list_scoped, target_namespaces
from tools.kubernetes.tools import within_budget

DEFAULT_SINCE = timedelta(hours=24)
MAX_SINCE = timedelta(days=90)
MAX_ITEMS = 60
SAME_CHANGE = timedelta(minutes=5)
"""A recorded change this close to a live one of the same object and type is the same change."""
_DURATION = re.compile(r"^(\d{1,5})([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
OWNERS = {"Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset"}


class ChangeHistory(Protocol):
    """Recorded changes (app/changes/store.py), already in this tool's item shape."""

    async def recorded(
        self, *, namespaces: Sequence[str] | None, cluster: bool, since: datetime, limit: int
    ) -> list[JSON]:
        """`namespaces` None: every namespace; `cluster`: include cluster-scoped objects (nodes)."""


_CHANGE = obj(
    {
        "time": STR,
        "kind": STR,
        "namespace": OPT_STR,
        "name": STR,
        "change": {
            "enum": [
                "rollout",
                "scaled",
                "updated",
                "failed",
                "cordoned",
                "uncordoned",
                "pressure",
                "not_ready",
                "recovered",
            ]
        },
        "detail": STR,
        "revision": OPT_INT,
        "image_changes": {
            "type": "array",
            "items": obj({"container": STR, "from": OPT_STR, "to": OPT_STR}),
        },
        "replicas": {"anyOf": [obj({"from": OPT_INT, "to": OPT_INT}), {"type": "null"}]},
        "by": OPT_STR,
        "reason": OPT_STR,
        "source": {"enum": ["cluster", "recorded"]},
    }
)
INPUT = obj(
    {
        "namespace": NAMESPACE_IN,
        "since": {
            "type": "string",
            "minLength": 2,
            "maxLength": 40,
            "description": (
                "How far back: a duration (`30m`, `6h`, `7d`; at most 90d) or an RFC 3339 time. Default 24h."
            ),
        },
    },
    optional=("namespace", "since"),
)
OUTPUT = obj(
    {
        "namespaces": STR_LIST,
        "since": STR,
        "count": INT,
        "truncated": BOOL,
        "nodes_included": BOOL,
        "recorded_history": BOOL,
        "hint": OPT_STR,
        "items": {"type": "array", "items": _CHANGE},
    }
)


def parse_since(value: str | None, now: datetime) -> datetime:
    if not value:
        return now - DEFAULT_SINCE
    m = _DURATION.match(value.strip())
    if m:
        delta = timedelta(**{_UNITS[m[2]]: int(m[1])})
    else:
        at = ex.parse_time(value.strip())
        if at is None:
            raise ToolError(
                f"since {value!r} is neither a duration like `30m`, `6h`, `7d` nor an RFC 3339 time "
                "like `2026-11-26T09:30:00Z`."
            )
        delta = now - at
    if delta > MAX_SINCE:
        raise ToolError("since reaches back more than 90 days, past what is kept; use at most `90d`.")
    return now - max(delta, timedelta(0))


def merge(live: list[JSON], recorded: list[JSON]) -> list[JSON]:
    """Live items, plus recorded ones that are not the same change seen twice; newest first."""
    out = list(live)
    for rec in recorded:
        when = ex.parse_time(rec["time"]) or datetime.min.replace(tzinfo=UTC)
        duplicate = any(
            (e["kind"], e["namespace"], e["name"], e["change"])
            == (rec["kind"], rec["namespace"], rec["name"], rec["change"])
            and abs((ex.parse_time(e["time"]) or when) - when) <= SAME_CHANGE
            for e in live
        )
        if not duplicate:
            out.append(rec)
    out.sort(key=ex.sort_key)
    return out


def fold_writes_into_rollouts(items: list[JSON]) -> list[JSON]:
    """`kubectl set image` shows up both as a write and as a new revision: keep one, naming the writer."""
    rollouts = {(i["kind"], i["namespace"], i["name"]): i for i in items if i["change"] == "rollout"}
    out = []
    for entry in items:
        rollout = rollouts.get((entry["kind"], entry["namespace"], entry["name"]))
        if entry["change"] == "updated" and rollout is not None:
            gap = abs(
                (ex.parse_time(entry["time"]) or datetime.min.replace(tzinfo=UTC))
                - (ex.parse_time(rollout["time"]) or datetime.min.replace(tzinfo=UTC))
            )
            if gap <= SAME_CHANGE:
                rollout["by"] = rollout["by"] or entry["by"]
                continue
        out.append(entry)
    return out


class K8sChangesTool(Tool):
    name = "k8s_changes"
    description = (
        "What changed, newest first: rollouts (new ReplicaSet/ControllerRevision revisions with the "
        "image diff), HPA scaling, objects written recently (managedFields; ConfigMaps by metadata "
        "only), failed Jobs, and for cluster-wide scopes node cordons and pressure. Includes changes "
        "recorded earlier that Kubernetes no longer shows. Call it first when triaging an alert."
    )
    input_schema = INPUT
    output_schema = OUTPUT
    timeout_s: ClassVar[float] = 30.0

    def __init__(self, *, client: KubernetesClient, history: ChangeHistory | None = None) -> None:
        self.client = client
        self.history = history

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        now = datetime.now(UTC)
        since = parse_since(args.get("since"), now)
        namespace = args.get("namespace")
        scope = ctx.scope
        targets = target_namespaces(scope, namespace, tool=self.name)  # refuses before any call
        nodes = namespace is None and scope.cluster_wide and scope.allows(None)
        live = await self._live(scope, namespace, since, nodes)
        recorded: list[JSON] = []
        if self.history is not None:
            recorded = await self.history.recorded(
                namespaces=targets, cluster=nodes, since=since, limit=MAX_ITEMS * 4
            )
        # a third check of our own before the router's: every item inside the scope
        items = [i for i in merge(fold_writes_into_rollouts(live), recorded) if scope.allows(i["namespace"])]
        total = len(items)
        kept = within_budget(items, max_items=MAX_ITEMS)
        cut = len(kept) < total
        return {
            "namespaces": [ALL] if targets is None else targets,
            "since": ex.stamp(since),
            "count": total,
            "truncated": cut,
            "nodes_included": nodes,
            "recorded_history": self.history is not None,
            "hint": (
                f"Showing the {len(kept)} newest of {total} changes; narrow with `namespace` or `since`."
                if cut
                else None
            ),
            "items": kept,
        }

    async def _live(
        self, scope: EffectiveScope, namespace: str | None, since: datetime, nodes: bool
    ) -> list[JSON]:
        async def listed(kind: str) -> list[JSON]:
            return (await list_scoped(self.client, kind, scope, namespace, tool=self.name))[1]

        kinds = ("deployment", "replicaset", "statefulset", "daemonset", "controllerrevision", "hpa", "job")
        configmaps = list_metadata_scoped(self.client, "configmap", scope, namespace, tool=self.name)
        results = await asyncio.gather(*(listed(k) for k in kinds), configmaps)
        got = dict(zip((*kinds, "configmap"), results, strict=True))
        items = ex.rollout_items([*got["replicaset"], *got["controllerrevision"]], since, owners=OWNERS)
        items += ex.hpa_items(got["hpa"], since)
        items += ex.job_items(got["job"], since)
        for kind in ("deployment", "statefulset", "daemonset", "hpa", "configmap"):
            items += ex.updated_items(kind, got[kind], since)
        if nodes:
            items += ex.node_items(await self.client.list("node", None), since)
        return items
