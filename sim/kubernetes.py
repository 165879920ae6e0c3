"""A wire-faithful Kubernetes API server for tests and `aiops demo`.

Serves the read paths the official `kubernetes` client calls (core v1, apps/v1, batch/v1,
autoscaling/v2, discovery/v1, networking/v1, policy/v1, rbac/v1, storage/v1,
admissionregistration/v1, Gateway API v1, OLM v0 and v1, pod logs) from a scenario YAML file: a list of
ordinary Kubernetes objects plus
pod logs by pod/container/previous. It answers like the real API server — `XList` envelopes with
`metadata.resourceVersion`, `Status` objects for errors, label and field selectors — and
behaves like our read-only ClusterRole: writes are 403. Secrets and ConfigMaps are served only as a
`PartialObjectMetadataList` (the `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`
the API server honours); a request that would return their data is 403 — stricter than RBAC (which
cannot tell the two apart) so that a test sees any attempt to read content.

Every request is recorded in `requests` so tests can assert that a call was never issued.
A bearer token is required (401 otherwise), as the kubeconfig written by `write_kubeconfig`
carries it.

Scenario YAML:

    include: healthy            # optional: start from other scenarios' objects and logs (name or list)
    objects: [ {apiVersion, kind, metadata: {name, namespace, ...}, spec, status}, ... ]
    logs:
      - {namespace, pod, container, previous: false, lines: [...]}
"""

from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from sim.kubernetes_endpoints import synthesized_endpoint_slices
from sim.kubernetes_resources import _RESOURCES, Resource
from sim.kubernetes_selectors import SelectorError, field_selector_matches, label_selector_matches
from sim.kubernetes_time import SCENARIO_NOW, parse, shift, shift_text
from sim.loopback import LoopbackServer

SCENARIO_DIR = Path(__file__).parent / "scenarios"


_BY_KIND = {r.kind: r for group in _RESOURCES.values() for r in group.values()}
METADATA_ACCEPT = "as=PartialObjectMetadataList"
_SA_USER = "system:serviceaccount:aiops-system:aiops"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int
    accept: str = ""
    user_agent: str = ""


@dataclass
class Scenario:
    objects: list[dict[str, Any]] = field(default_factory=list)
    logs: dict[tuple[str, str, str, bool], list[str]] = field(default_factory=dict)
    now: datetime = SCENARIO_NOW
    """The moment the scenario describes (timestamps in it are written relative to this)."""

    @classmethod
    def load(cls, name_or_path: str | Path) -> Scenario:
        path = Path(name_or_path)
        if not path.suffix:
            path = SCENARIO_DIR / f"{name_or_path}.yaml"
        doc = yaml.safe_load(path.read_text()) or {}
        scenario = cls()
        includes = doc.get("include") or []
        for parent in [includes] if isinstance(includes, str) else includes:
            base = cls.load(parent)
            for obj in base.objects:
                scenario.add(obj)
            scenario.logs.update(base.logs)
        for obj in doc.get("objects") or []:
            scenario.add(obj)
        if doc.get("now"):
            scenario.now = parse(str(doc["now"])) or SCENARIO_NOW
        for entry in doc.get("logs") or []:
            key = (entry["namespace"], entry["pod"], entry["container"], bool(entry.get("previous")))
            scenario.logs[key] = [str(line) for line in entry.get("lines") or []]
        return scenario

    def add(self, obj: dict[str, Any]) -> None:
        """Add (or replace, by kind/namespace/name) one object."""
        meta = obj.setdefault("metadata", {})
        key = (obj["kind"], meta.get("namespace"), meta["name"])
        self.objects = [o for o in self.objects if _key(o) != key]
        self.objects.append(obj)


def _key(obj: dict[str, Any]) -> tuple[str, str | None, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace"), meta["name"]


def _complete(obj: dict[str, Any]) -> None:
    """Fill fields the real server always sets and the client's models require (in place on a copy)."""
    status = obj.get("status")
    if not isinstance(status, dict):
        return
    if obj.get("kind") == "Pod":
        obj["status"] = status = dict(status)
        for key in ("containerStatuses", "initContainerStatuses"):
            filled = []
            for cs in status.get(key) or []:
                cs = dict(cs)
                cs.setdefault(
                    "imageID", f"{cs.get('image', 'image')}@sha256:{zlib.crc32(str(cs).encode()):064x}"
                )
                cs.setdefault("containerID", f"containerd://{zlib.crc32(cs['name'].encode()):064x}")
                filled.append(cs)
            if key in status:
                status[key] = filled
    elif obj.get("kind") == "Node":
        obj["status"] = status = dict(status)
        info = {
            "architecture": "amd64",
            "bootID": "00000000-boot",
            "containerRuntimeVersion": "containerd://1.7.20",
            "kernelVersion": "6.1.0-26-amd64",
            "kubeProxyVersion": "",
            "kubeletVersion": "v1.30.4",
            "machineID": "0" * 32,
            "operatingSystem": "linux",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "systemUUID": "00000000-uuid",
        }
        status["nodeInfo"] = {**info, **(status.get("nodeInfo") or {})}


# ---------------------------------------------------------------- server


def _status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return web.json_response(body, status=code)


class KubernetesSimulator(LoopbackServer):
    """`async with KubernetesSimulator(scenario=...) as sim:` → `sim.url`, `sim.token`, `sim.requests`."""

    def __init__(
        self,
        *,
        scenario: str | Path | Scenario = "healthy",
        token: str | None = None,
        live_clock: bool = False,
        forbidden: frozenset[str] = frozenset(),
    ) -> None:
        """live_clock: serve timestamps shifted so that the scenario's `now` is the real now (demo).
        forbidden: plurals the service account may not read (an operator's narrower RBAC): 403."""
        super().__init__()
        self.scenario = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
        self.time_shift = datetime.now(UTC) - self.scenario.now if live_clock else timedelta(0)
        self.token = token or secrets.token_urlsafe(24)
        self.requests: list[RecordedRequest] = []
        self.resource_version = 1000
        self.forbidden = forbidden

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    @property
    def url(self) -> str:
        """The API server URL (what a kubeconfig's `server` holds)."""
        return self.base_url

    def write_kubeconfig(self, path: Path) -> Path:
        """A kubeconfig whose only context points at this simulator with its bearer token."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sim", "cluster": {"server": self.url}}],
            "users": [{"name": "aiops", "user": {"token": self.token}}],
            "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "aiops"}}],
            "current-context": "sim",
        }
        path.write_text(yaml.safe_dump(config))
        return path

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = self._dispatch(request)
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                dict(request.query),
                response.status,
                request.headers.get("Accept", ""),
                request.headers.get("User-Agent", ""),
            )
        )
        return response

    def _dispatch(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized", "Unauthorized")
        path = request.path.rstrip("/")
        if path == "/version":
            return web.json_response({"major": "1", "minor": "30", "gitVersion": "v1.30.0-aiops-sim"})
        prefix = next((p for p in _RESOURCES if path == p or path.startswith(p + "/")), None)
        if prefix is None:
            return _status(404, "NotFound", "the server could not find the requested resource")
        parts = [p for p in path[len(prefix) :].split("/") if p]
        namespace = None
        if len(parts) >= 3 and parts[0] == "namespaces":
            namespace, parts = parts[1], parts[2:]
        if not parts:
            return _status(404, "NotFound", "the server could not find the requested resource")
        plural, rest = parts[0], parts[1:]
        res = _RESOURCES[prefix].get(plural)
        if request.method != "GET" or plural in self.forbidden:
            return self._forbidden(
                "LIST" if request.method == "GET" and not rest else request.method, plural, namespace
            )
        if (
            res is not None
            and res.metadata_only
            and (rest or METADATA_ACCEPT not in request.headers.get("Accept", ""))
        ):
            return self._forbidden("GET" if rest else "LIST", plural, namespace)
        if res is None or len(rest) > 2 or (namespace is not None and not res.namespaced):
            return _status(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            return self._list(res, namespace, request.query)
        if res.namespaced and namespace is None:
            return _status(404, "NotFound", "the server could not find the requested resource")
        obj = self._find(res, namespace, rest[0])
        if obj is None:
            return _status(
                404,
                "NotFound",
                f'{res.plural} "{rest[0]}" not found',
                {"name": rest[0], "kind": res.plural},
            )
        if len(rest) == 1:
            return web.json_response(self._render(obj))
        if res.plural == "pods" and rest[1] == "log":
            return self._log(obj, request.query)
        return _status(404, "NotFound", "the server could not find the requested resource")

    def _forbidden(self, method: str, plural: str, namespace: str | None) -> web.Response:
        verb = {
            "GET": "get",
            "LIST": "list",
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete",
        }.get(method, method.lower())
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        return _status(
            403,
            "Forbidden",
            f'{plural} is forbidden: User "{_SA_USER}" cannot {verb} resource "{plural}"'
            f' in API group ""{where}',
            {"kind": plural},
        )

    def _objects(self, res: Resource, namespace: str | None) -> list[dict[str, Any]]:
        objects = self.scenario.objects
        if res.kind == "EndpointSlice":
            objects = [*objects, *synthesized_endpoint_slices(objects, namespace)]
        return [
            o
            for o in objects
            if o["kind"] == res.kind and (namespace is None or o["metadata"].get("namespace") == namespace)
        ]

    def _find(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        return next((o for o in self._objects(res, namespace) if o["metadata"]["name"] == name), None)

    def _render(self, obj: dict[str, Any], *, in_list: bool = False) -> dict[str, Any]:
        out = dict(obj)
        meta = dict(out.get("metadata") or {})
        meta.setdefault("uid", f"00000000-0000-4000-8000-{zlib.crc32(repr(_key(obj)).encode()):012d}")
        meta.setdefault("resourceVersion", str(self.resource_version))
        meta.setdefault("creationTimestamp", "2026-11-26T08:00:00Z")
        out["metadata"] = meta
        _complete(out)
        out = dict(shift(out, self.time_shift))
        if in_list:  # the API server omits kind/apiVersion on list items
            out.pop("kind", None)
            out.pop("apiVersion", None)
        return out

    def _list(self, res: Resource, namespace: str | None, query: Any) -> web.Response:
        items = self._objects(res, namespace)
        try:
            if query.get("labelSelector"):
                items = [
                    o
                    for o in items
                    if label_selector_matches(query["labelSelector"], o["metadata"].get("labels") or {})
                ]
            if query.get("fieldSelector"):
                items = [o for o in items if field_selector_matches(query["fieldSelector"], o)]
        except SelectorError as exc:
            return _status(400, "BadRequest", str(exc))
        if res.metadata_only:
            return web.json_response(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {"resourceVersion": str(self.resource_version)},
                    "items": [
                        {
                            "kind": "PartialObjectMetadata",
                            "apiVersion": "meta.k8s.io/v1",
                            "metadata": self._render(o)["metadata"],
                        }
                        for o in items
                    ],
                }
            )
        return web.json_response(
            {
                "kind": f"{res.kind}List",
                "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self.resource_version)},
                "items": [self._render(o, in_list=True) for o in items],
            }
        )

    def _log(self, pod: dict[str, Any], query: Any) -> web.Response:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        container = query.get("container")
        if not container:
            if len(containers) != 1:
                return _status(
                    400,
                    "BadRequest",
                    f"a container name must be specified for pod {name},"
                    f" choose one of: [{' '.join(containers)}]",
                )
            container = containers[0]
        if container not in containers:
            return _status(400, "BadRequest", f"container {container} is not valid for pod {name}")
        previous = query.get("previous") == "true"
        lines = self.scenario.logs.get((ns, name, container, previous))
        if lines is None and previous:
            return _status(
                400, "BadRequest", f'previous terminated container "{container}" in pod "{name}" not found'
            )
        lines = [shift_text(line, self.time_shift) for line in lines or []]
        if query.get("tailLines"):
            try:
                tail = int(query["tailLines"])
            except ValueError:
                return _status(400, "BadRequest", "tailLines: invalid value")
            lines = lines[-tail:] if tail > 0 else []
        body = "".join(line + "\n" for line in lines).encode()
        if query.get("limitBytes"):
            body = body[: int(query["limitBytes"])]  # like the kubelet: the first N bytes
        return web.Response(body=body, content_type="text/plain")


__all__ = ["KubernetesSimulator", "Scenario", "field_selector_matches", "label_selector_matches"]
