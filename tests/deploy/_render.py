"""Shared helpers of the deploy tests: render overlays with kubectl's kustomize, walk pod templates,
read the per-component secret table of docs/operations.md. No cluster runs here: everything is
checked on the rendered YAML."""

from __future__ import annotations

import copy
import functools
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
OVERLAYS = sorted(p.name for p in (DEPLOY / "overlays").iterdir() if (p / "kustomization.yaml").exists())
SECRETS_DIR = "/var/run/secrets/aiops"
VAULT_SECRET = "vault.hashicorp.com/agent-inject-secret-"
POD_OWNERS = ("Deployment", "Job", "CronJob", "StatefulSet", "DaemonSet", "Pod", "ReplicaSet")

Doc = dict[str, Any]


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail("kubectl is not installed: run `make test-deps` (installs Debian's kubectl as root)")
    return path


def render_dir(path: Path) -> list[Doc]:
    out = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, f"kubectl kustomize {path} failed:\n{out.stderr}"
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@functools.cache
def _render_cached(overlay: str) -> tuple[Doc, ...]:
    return tuple(render_dir(DEPLOY / "overlays" / overlay))


def render(overlay: str) -> list[Doc]:
    """A fresh copy each call, so a test cannot change what the next one sees."""
    return copy.deepcopy(list(_render_cached(overlay)))


def pod_template(doc: Doc) -> Doc | None:
    kind = doc.get("kind")
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]  # type: ignore[no-any-return]
    if kind == "Pod":
        return doc
    if kind in POD_OWNERS:
        return doc["spec"]["template"]  # type: ignore[no-any-return]
    return None


def pods(docs: list[Doc]) -> list[tuple[Doc, Doc]]:
    """(owner, pod template) for every object that makes pods."""
    return [(d, t) for d in docs if (t := pod_template(d)) is not None]


def component(template: Doc) -> str:
    return template["metadata"]["labels"]["app.kubernetes.io/component"]  # type: ignore[no-any-return]


def containers(template: Doc) -> list[Doc]:
    spec = template["spec"]
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def mounted_secret_files(template: Doc) -> dict[str, tuple[str, bool]]:
    """file name → (Secret or Vault path it comes from, optional?) for everything a pod gets as a
    secret file. A secret volume without an explicit item list fails: its files cannot be known."""
    files: dict[str, tuple[str, bool]] = {}
    for vol in template["spec"].get("volumes", []):
        sources: list[Doc] = []
        if "secret" in vol:
            sources = [{"secret": {**vol["secret"], "name": vol["secret"]["secretName"]}}]
        elif "projected" in vol:
            sources = vol["projected"]["sources"]
        for src in sources:
            if "secret" not in src:
                continue
            sec = src["secret"]
            assert sec.get("items"), (
                f"secret volume {vol['name']} mounts all of {sec['name']}: list the files"
            )
            for item in sec["items"]:
                files[item["path"]] = (sec["name"], bool(sec.get("optional", False)))
    annotations = template.get("metadata", {}).get("annotations", {}) or {}
    for key, path in annotations.items():
        if key.startswith(VAULT_SECRET):
            files[key.removeprefix(VAULT_SECRET)] = (path, False)
    return files


def secret_table() -> dict[str, dict[str, str]]:
    """docs/operations.md "Secrets per component": file → {component: required|optional}."""
    text = (REPO / "docs" / "operations.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| secret file |"))
    columns = [c.strip() for c in header.strip().strip("|").split("|")][1:]
    table: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        m = re.fullmatch(r"\| `([^`]+)` \|(.*)\|", line.strip())
        if not m:
            continue
        cells = [c.strip() for c in m.group(2).split("|")]
        if len(cells) != len(columns):
            continue
        table[m.group(1)] = {c: v for c, v in zip(columns, cells, strict=True) if v}
    assert table, "docs/operations.md has no secret table"
    return table


def table_components() -> list[str]:
    text = (REPO / "docs" / "operations.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| secret file |"))
    return [c.strip() for c in header.strip().strip("|").split("|")][1:]


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels + matchExpressions)."""
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def by_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d.get("kind") == kind]


def image_tag(template: Doc) -> str:
    return containers(template)[0]["image"].rsplit(":", 1)[1]  # type: ignore[no-any-return]
