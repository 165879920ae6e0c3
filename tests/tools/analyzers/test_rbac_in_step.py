"""The read-only ClusterRole in deploy/base grants exactly the kinds the code reads — no more (least
privilege), no less (a forbidden list would skip checks in production) — and only get/list/watch;
ConfigMaps only `list`, which the code uses for metadata alone. Secret names are the one opt-in
(docs/analyzers.md): the base role never grants Secrets, and without them analyze still works."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import yaml

from sim.kubernetes_resources import _RESOURCES
from tools.kubernetes.client import KINDS, METADATA_ONLY, KindSpec

ROOT = Path(__file__).resolve().parents[3]
GROUPS = {
    "CoreV1Api": "",
    "AppsV1Api": "apps",
    "BatchV1Api": "batch",
    "AutoscalingV2Api": "autoscaling",
    "DiscoveryV1Api": "discovery.k8s.io",
    "NetworkingV1Api": "networking.k8s.io",
    "PolicyV1Api": "policy",
    "RbacAuthorizationV1Api": "rbac.authorization.k8s.io",
    "StorageV1Api": "storage.k8s.io",
    "AdmissionregistrationV1Api": "admissionregistration.k8s.io",
}
READ = frozenset({"get", "list", "watch"})


def _plural(resource: str) -> str:
    word = resource.replace("_", "")
    if word.endswith(("s", "ss")):
        return word + "es"
    if word.endswith("y"):
        return word[:-1] + "ies"
    return word + "s"


def _group_resource(spec: KindSpec) -> tuple[str, str]:
    if spec.custom is not None:
        return spec.custom[0], spec.custom[2]
    return GROUPS[spec.api], _plural(spec.resource)


def code_reads() -> dict[tuple[str, str], frozenset[str]]:
    wanted = {_group_resource(s): READ for s in KINDS.values()}
    wanted[("", "pods/log")] = READ
    wanted |= {("", _plural(r)): frozenset({"list"}) for r in METADATA_ONLY.values()}
    return wanted


def role_grants() -> dict[tuple[str, str], frozenset[str]]:
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy/base/rbac.yaml").read_text()) if d]
    role: dict[str, Any] = next(d for d in docs if d["kind"] == "ClusterRole")
    out: dict[tuple[str, str], frozenset[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert (group, resource) not in out, f"{group}/{resource} granted twice"
                out[(group, resource)] = frozenset(rule["verbs"])
    return out


OPT_IN = ("", "secrets")


def test_cluster_role_grants_exactly_what_the_code_reads() -> None:
    wanted = code_reads()
    assert wanted.pop(OPT_IN) == {"list"}
    assert role_grants() == wanted


def test_only_read_verbs_and_never_secrets() -> None:
    grants = role_grants()
    assert all(verbs <= READ for verbs in grants.values())
    assert grants[("", "configmaps")] == {"list"}
    assert OPT_IN not in grants


def test_metadata_only_kinds_are_read_nowhere_else() -> None:
    """No code path names Secrets or ConfigMaps except the metadata-only list (a text check over
    our sources: a `read_namespaced_secret` or a `secrets` URL anywhere else fails here)."""
    offenders = []
    pattern = re.compile(r"(read|list)_(namespaced_)?(secret|config_map)|/api/v1/\S*(secrets|configmaps)")
    for path in [*ROOT.glob("tools/**/*.py"), *ROOT.glob("app/**/*.py"), *ROOT.glob("aiops/**/*.py")]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.search(node.value):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
    source = (ROOT / "tools/kubernetes/client.py").read_text()
    assert source.count("METADATA_ONLY[") == 1  # the one method that lists them, with the Accept header


def test_simulator_serves_every_granted_kind() -> None:
    served = {
        (prefix.removeprefix("/apis/").rsplit("/", 1)[0] if prefix.startswith("/apis/") else "", plural)
        for prefix, group in _RESOURCES.items()
        for plural in group
    }
    missing = {gr for gr in role_grants() if gr[1] != "pods/log" and gr not in served}
    assert missing == set()
