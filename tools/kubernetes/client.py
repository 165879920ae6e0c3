"""The one edge to the Kubernetes API: the official client, off the event loop.

`KubernetesClient` builds its own `ApiClient` from a kubeconfig file (or the in-cluster service
account when none is given) — never the library's global default configuration — and wraps each
blocking call once with `asyncio.to_thread`. It only reads: list/get of the kinds in `KINDS` and
pod logs. Secrets and ConfigMaps are reachable only through `list_metadata`, which asks the API
server for a `PartialObjectMetadataList` (names, labels, annotations — never `data`).

Responses are taken raw and parsed as JSON: the tools summarize plain dicts, and an odd object in
the cluster cannot break model deserialization. Reads are plain GETs on the REST paths of
tools/kubernetes/paths.py through the `ApiClient` (its configuration, auth and TLS); the
generated `*Api` classes are used only for a kind whose API class that table does not know.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from kernel.errors import BackendError
from tools.kubernetes import paths
from tools.kubernetes.bulk import collector_paused


@dataclass(frozen=True)
class KindSpec:
    kind: str
    """Our name for it (the `kind` argument of the tools)."""
    api: str
    """Attribute of `kubernetes.client` holding the API class."""
    resource: str
    """Suffix of the generated method names (`list_namespaced_<resource>`, `read_namespaced_<…>`)."""
    namespaced: bool = True
    custom: tuple[str, str, str] | None = None
    """(group, version, plural) for kinds served through `CustomObjectsApi` (Gateway API)."""


def _gateway(kind: str, plural: str, *, namespaced: bool = True) -> KindSpec:
    return KindSpec(kind, "CustomObjectsApi", plural, namespaced, ("gateway.networking.k8s.io", "v1", plural))


KINDS: dict[str, KindSpec] = {
    s.kind: s
    for s in (
        KindSpec("pod", "CoreV1Api", "pod"),
        KindSpec("service", "CoreV1Api", "service"),
        KindSpec("event", "CoreV1Api", "event"),
        KindSpec("pvc", "CoreV1Api", "persistent_volume_claim"),
        KindSpec("node", "CoreV1Api", "node", namespaced=False),
        KindSpec("deployment", "AppsV1Api", "deployment"),
        KindSpec("statefulset", "AppsV1Api", "stateful_set"),
        KindSpec("daemonset", "AppsV1Api", "daemon_set"),
        KindSpec("replicaset", "AppsV1Api", "replica_set"),
        KindSpec("controllerrevision", "AppsV1Api", "controller_revision"),  # k8s_changes: images only
        KindSpec("job", "BatchV1Api", "job"),
        KindSpec("cronjob", "BatchV1Api", "cron_job"),
        KindSpec("hpa", "AutoscalingV2Api", "horizontal_pod_autoscaler"),
        # read by the analyzers only (the k8s_* tools' kind enum is tools/kubernetes/schemas.py)
        KindSpec("endpointslice", "DiscoveryV1Api", "endpoint_slice"),
        KindSpec("ingress", "NetworkingV1Api", "ingress"),
        KindSpec("ingressclass", "NetworkingV1Api", "ingress_class", namespaced=False),
        KindSpec("networkpolicy", "NetworkingV1Api", "network_policy"),
        KindSpec("pdb", "PolicyV1Api", "pod_disruption_budget"),
        KindSpec("serviceaccount", "CoreV1Api", "service_account"),
        KindSpec("rolebinding", "RbacAuthorizationV1Api", "role_binding"),
        KindSpec("role", "RbacAuthorizationV1Api", "role"),
        KindSpec("storageclass", "StorageV1Api", "storage_class", namespaced=False),
        KindSpec("pv", "CoreV1Api", "persistent_volume", namespaced=False),
        KindSpec(
            "mutatingwebhook",
            "AdmissionregistrationV1Api",
            "mutating_webhook_configuration",
            namespaced=False,
        ),
        KindSpec(
            "validatingwebhook",
            "AdmissionregistrationV1Api",
            "validating_webhook_configuration",
            namespaced=False,
        ),
        _gateway("gateway", "gateways"),
        _gateway("httproute", "httproutes"),
        _gateway("gatewayclass", "gatewayclasses", namespaced=False),
    )
}


def _custom(kind: str, group: str, version: str, plural: str, *, namespaced: bool = True) -> KindSpec:
    return KindSpec(kind, "CustomObjectsApi", plural, namespaced, (group, version, plural))


# Operator Lifecycle Manager (read by the analyzers only; 404 when OLM is not installed → empty)
_OLM0, _OLM1 = "operators.coreos.com", "olm.operatorframework.io"
KINDS |= {
    s.kind: s
    for s in (
        _custom("subscription", _OLM0, "v1alpha1", "subscriptions"),
        _custom("catalogsource", _OLM0, "v1alpha1", "catalogsources"),
        _custom("csv", _OLM0, "v1alpha1", "clusterserviceversions"),
        _custom("installplan", _OLM0, "v1alpha1", "installplans"),
        _custom("operatorgroup", _OLM0, "v1", "operatorgroups"),
        _custom("clustercatalog", _OLM1, "v1", "clustercatalogs", namespaced=False),
        _custom("clusterextension", _OLM1, "v1", "clusterextensions", namespaced=False),
    )
}

METADATA_ONLY: dict[str, str] = {"configmap": "config_map", "secret": "secret"}
"""Kinds whose content we never read: listed as `PartialObjectMetadataList` only (CoreV1Api suffix)."""
METADATA_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


class KubernetesClient:
    """Read-only access to one cluster.

    kubeconfig: path to a kubeconfig file (`KUBECONFIG`); None → in-cluster service account.
    context: kubeconfig context (None → current-context).
    request_timeout_s: per HTTP request, so a hung API server cannot pin a worker thread forever.
    user_agent: sent on every request (the change watcher names itself, so audit logs of the API
    server tell its cluster-wide lists from the tools' scoped reads).
    """

    def __init__(
        self,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        request_timeout_s: float = 15.0,
        user_agent: str | None = None,
    ) -> None:
        self._kubeconfig = kubeconfig
        self._context = context
        self._timeout = request_timeout_s
        self._user_agent = user_agent
        self._api_client: k8s.ApiClient | None = None
        self._apis: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- construction (lazy: reading the kubeconfig is blocking file I/O) -------------------

    def _client(self) -> k8s.ApiClient:
        with self._lock:
            return self._client_locked()

    def _api(self, name: str) -> Any:
        with self._lock:
            api_client = self._client_locked()
            if name not in self._apis:
                self._apis[name] = getattr(k8s, name)(api_client=api_client)
            return self._apis[name]

    def _client_locked(self) -> k8s.ApiClient:
        if self._api_client is None:
            cfg = k8s.Configuration()
            if self._kubeconfig:
                k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=self._kubeconfig, context=self._context, client_configuration=cfg
                )
            else:
                k8s_config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
            self._api_client = k8s.ApiClient(configuration=cfg)
            if self._user_agent:
                self._api_client.user_agent = self._user_agent
        return self._api_client

    async def close(self) -> None:
        if self._api_client is not None:
            await asyncio.to_thread(self._api_client.close)
            self._api_client = None
            self._apis.clear()

    # -- reads -----------------------------------------------------------------------------

    async def list(
        self,
        kind: str,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        each: Callable[[dict[str, Any]], Any] | None = None,
    ) -> builtins.list[Any]:
        """Items of `kind` in `namespace` (None: all namespaces / a cluster-scoped kind).

        each: applied to every item as the response is parsed, keeping only what it returns (not
        None): the raw objects are freed at once, and the reduced records are all that remain."""
        spec = KINDS[kind]
        path = paths.collection(spec, namespace)
        try:
            if path is not None:
                query = [("labelSelector", label_selector), ("fieldSelector", field_selector)]
                body = await self._get(path, [(k, v) for k, v in query if v])
            else:
                body = await self._generated_list(spec, namespace, label_selector, field_selector)
        except _NotFound:  # an API group that is not installed (Gateway API CRDs): nothing to list
            return []
        with collector_paused():  # a large acyclic tree: see tools/kubernetes/bulk.py
            doc = json.loads(body)
            items = [
                i for i in (doc.get("items") if isinstance(doc, dict) else None) or [] if isinstance(i, dict)
            ]
            if each is not None:
                items = [r for i in items if (r := each(i)) is not None]
            del doc
        return items

    async def get(self, kind: str, name: str, namespace: str | None) -> dict[str, Any] | None:
        """One object, or None when it does not exist."""
        spec = KINDS[kind]
        if spec.namespaced and namespace is None:
            raise ValueError("namespace required for a namespaced kind")
        path = paths.collection(spec, namespace)
        try:
            if path is not None:
                body = await self._get(f"{path}/{paths.segment(name)}", [])
            else:
                body = await self._generated_get(spec, name, namespace)
        except _NotFound:
            return None
        obj = json.loads(body)
        return obj if isinstance(obj, dict) else None

    async def list_metadata(self, kind: str, namespace: str | None) -> builtins.list[dict[str, Any]]:
        """Metadata of every `kind` object (configmap/secret) in `namespace` (None: all namespaces).

        The Accept header makes the API server strip everything but `metadata`, so `data` never
        leaves it; RBAC cannot express that, which is why this is the only path to these kinds."""
        path = paths.core_collection(METADATA_ONLY[kind], namespace)
        try:
            body = await self._get(path, [], accept=METADATA_ACCEPT)
        except _NotFound:
            return []
        doc = json.loads(body)
        items = (doc.get("items") if isinstance(doc, dict) else None) or []
        # keep metadata only, even if a server ignored the Accept header
        return [{"metadata": i.get("metadata")} for i in items if isinstance(i, dict)]

    async def pod_logs(
        self, namespace: str, pod: str, *, container: str | None, tail_lines: int, previous: bool
    ) -> str | None:
        """The last `tail_lines` lines of a container's log (None: pod not found)."""
        query = [("tailLines", str(tail_lines)), ("previous", "true" if previous else "false")]
        if container:
            query.append(("container", container))
        path = f"{paths.core_collection('pod', namespace)}/{paths.segment(pod)}/log"
        try:
            body = await self._get(path, query, accept="text/plain")
        except _NotFound:
            return None
        return body.decode("utf-8", errors="replace")

    async def _get(
        self, path: str, query: builtins.list[tuple[str, str]], *, accept: str = "application/json"
    ) -> bytes:
        def run() -> bytes:
            api_client = self._client()
            method, url, headers, _, _ = api_client.param_serialize(
                "GET",
                path,
                query_params=query,
                header_params={"Accept": accept},
                auth_settings=["BearerToken"],
            )
            resp: Any = api_client.call_api(method, url, headers, _request_timeout=self._timeout)
            data = bytes(resp.response.data)  # the raw body, never deserialized into models
            if not 200 <= resp.status <= 299:
                raise ApiException(
                    status=resp.status, reason=resp.reason, body=data.decode("utf-8", "replace")
                )
            return data

        return await self._run(run)

    # -- kinds whose API class paths.API_ROOTS does not know: the generated methods ---------

    async def _generated_list(
        self, spec: KindSpec, namespace: str | None, label_selector: str | None, field_selector: str | None
    ) -> bytes:
        kwargs = {
            k: v for k, v in (("label_selector", label_selector), ("field_selector", field_selector)) if v
        }
        if not spec.namespaced:
            return await self._call(spec.api, f"list_{spec.resource}", **kwargs)
        if namespace is None:
            return await self._call(spec.api, f"list_{spec.resource}_for_all_namespaces", **kwargs)
        return await self._call(spec.api, f"list_namespaced_{spec.resource}", namespace, **kwargs)

    async def _generated_get(self, spec: KindSpec, name: str, namespace: str | None) -> bytes:
        if spec.namespaced:
            return await self._call(spec.api, f"read_namespaced_{spec.resource}", name, namespace)
        return await self._call(spec.api, f"read_{spec.resource}", name)

    async def _call(self, api: str, method: str, *args: Any, **kwargs: Any) -> bytes:
        def run() -> bytes:
            fn = getattr(self._api(api), method)
            resp = fn(*args, _preload_content=False, _request_timeout=self._timeout, **kwargs)
            return bytes(resp.data)

        return await self._run(run)

    async def _run(self, run: Callable[[], bytes]) -> bytes:
        try:
            return await asyncio.to_thread(run)
        except ApiException as exc:
            if exc.status == 404:
                raise _NotFound() from None
            raise BackendError(f"Kubernetes API answered {exc.status}: {_status_message(exc)}") from None
        except (OSError, k8s_config.ConfigException) as exc:
            raise BackendError(f"Kubernetes API unavailable: {type(exc).__name__}") from None
        except Exception as exc:  # urllib3 MaxRetryError/timeouts: never echo URLs or headers
            if type(exc).__module__.startswith("urllib3"):
                raise BackendError(f"Kubernetes API unreachable ({type(exc).__name__})") from None
            raise


class _NotFound(Exception):
    pass


def _status_message(exc: ApiException) -> str:
    """The `Status.message` of an API error body — never headers (they can carry tokens)."""
    try:
        body = json.loads(exc.body or "")
        message = str(body.get("message") or exc.reason or "")
    except (ValueError, AttributeError):
        message = str(exc.reason or "")
    return message[:300]
