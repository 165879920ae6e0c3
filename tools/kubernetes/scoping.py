"""Which namespaces a Kubernetes read may touch, decided before the call and checked after it.

A scoped user never causes a cluster-wide list: without a namespace argument we issue one
namespaced call per namespace of the scope (bounded in number and concurrency). Only an
all-namespaces scope gets the single `…/pods` style call. Whatever comes back is filtered again
by the object's own namespace (the router filters a third time on the summaries).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from kernel.errors import ScopeDenied, ToolError
from kernel.scope import EffectiveScope
from tools.kubernetes import messages as msg
from tools.kubernetes.client import KINDS, KubernetesClient

MAX_NAMESPACES_PER_CALL = 25
CONCURRENCY = 4
ALL = "*"


def allowed_text(scope: EffectiveScope) -> str:
    return "all namespaces" if scope.namespaces is None else (", ".join(sorted(scope.namespaces)) or "none")


def check_namespace(scope: EffectiveScope, namespace: str) -> None:
    if not scope.allows(namespace):
        raise ScopeDenied(
            msg.NAMESPACE_DENIED.format(namespace=namespace, allowed=allowed_text(scope)), namespace=namespace
        )


def check_cluster_wide(scope: EffectiveScope) -> None:
    if not scope.cluster_wide or not scope.allows(None):
        raise ScopeDenied(msg.NODES_ADMIN_ONLY)


def target_namespaces(scope: EffectiveScope, namespace: str | None, *, tool: str) -> list[str] | None:
    """[namespace], the scope's namespaces, or None (= one all-namespaces call, unscoped only)."""
    if namespace:
        check_namespace(scope, namespace)
        return [namespace]
    if scope.namespaces is None and scope.permissions.may_query:
        return None
    if not scope.namespaces or not scope.permissions.may_query:
        raise ScopeDenied(msg.NO_NAMESPACES)
    if len(scope.namespaces) > MAX_NAMESPACES_PER_CALL:
        raise ToolError(
            msg.TOO_MANY_NAMESPACES.format(
                count=len(scope.namespaces),
                tool=tool,
                limit=MAX_NAMESPACES_PER_CALL,
                allowed=allowed_text(scope),
            )
        )
    return sorted(scope.namespaces)


def object_namespace(obj: dict[str, Any]) -> str | None:
    meta = obj.get("metadata")
    return meta.get("namespace") if isinstance(meta, dict) else None


async def list_scoped(
    client: KubernetesClient,
    kind: str,
    scope: EffectiveScope,
    namespace: str | None,
    *,
    tool: str,
    label_selector: str | None = None,
    field_selector: str | None = None,
    each: Callable[[dict[str, Any]], Any] | None = None,
) -> tuple[list[str], list[Any]]:
    """(namespaces covered, raw items) — every item inside the scope. each: reduce every item in
    scope to what it returns as the response is parsed (client.list), dropping the raw object."""

    def in_scope(obj: dict[str, Any]) -> Any:
        # second check: the API server is trusted to filter, but a scope leak is the one bug we cannot have
        if not scope.allows(object_namespace(obj) or ""):
            return None
        return obj if each is None else each(obj)

    kw: dict[str, Any] = {
        "label_selector": label_selector,
        "field_selector": field_selector,
        "each": in_scope,
    }
    if not KINDS[kind].namespaced:
        check_cluster_wide(scope)
        return [], await client.list(kind, None, **{**kw, "each": each})
    targets = target_namespaces(scope, namespace, tool=tool)
    if targets is None:
        return [ALL], await client.list(kind, None, **kw)
    return targets, await _per_namespace(targets, lambda ns: client.list(kind, ns, **kw))


async def list_metadata_scoped(
    client: KubernetesClient, kind: str, scope: EffectiveScope, namespace: str | None, *, tool: str
) -> list[dict[str, Any]]:
    """`list_scoped` for the metadata-only kinds (ConfigMaps, Secrets): `client.list_metadata`,
    every item inside the scope."""
    targets = target_namespaces(scope, namespace, tool=tool)
    if targets is None:
        items = await client.list_metadata(kind, None)
    else:
        items = await _per_namespace(targets, lambda ns: client.list_metadata(kind, ns))
    return [i for i in items if scope.allows(str(object_namespace(i) or ""))]


async def _per_namespace(targets: list[str], fetch: Callable[[str], Awaitable[list[Any]]]) -> list[Any]:
    """One list per namespace, at most CONCURRENCY at a time, flattened."""
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(ns: str) -> list[Any]:
        async with sem:
            return await fetch(ns)

    batches = await asyncio.gather(*(one(ns) for ns in targets))
    return [item for batch in batches for item in batch]
