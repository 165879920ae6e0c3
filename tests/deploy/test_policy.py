"""Policies over the rendered YAML of every overlay: Pod Security `restricted`, secrets only as the
files docs/operations.md lists per component, read-only RBAC for the worker alone, NetworkPolicy
default-deny with exactly the intended ingress."""

from __future__ import annotations

import re

import pytest

from tests.deploy._render import (
    OVERLAYS,
    SECRETS_DIR,
    by_kind,
    component,
    containers,
    mounted_secret_files,
    pods,
    render,
    secret_table,
    selects,
    table_components,
)

LLM_KEYS = {"anthropic_api_key", "openai_api_key"}
SECRETISH_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/@\s:]+:[^/@\s]+@", re.IGNORECASE)
GATEWAY = {"kubernetes.io/metadata.name": "kong"}
MONITORING = {"kubernetes.io/metadata.name": "monitoring"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_under_restricted_pod_security(overlay: str) -> None:
    found = pods(render(overlay))
    assert {component(t) for _, t in found} >= set(table_components())
    for owner, tpl in found:
        where = f"{owner['kind']}/{owner['metadata']['name']}"
        spec = tpl["spec"]
        psc = spec.get("securityContext", {})
        assert psc.get("runAsNonRoot") is True, where
        assert psc.get("runAsUser", 0) != 0, where
        assert psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        # 0400 secret files are readable by uid 10001 only through the group (fsGroup → 0440).
        assert psc.get("fsGroup") == 10001, where
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(flag), where
        assert not any("hostPath" in v for v in spec.get("volumes", [])), where
        for c in containers(tpl):
            sc = c.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, (where, c["name"])
            assert sc.get("readOnlyRootFilesystem") is True, (where, c["name"])
            assert not sc.get("privileged"), (where, c["name"])
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], (where, c["name"])
            assert not sc.get("capabilities", {}).get("add"), (where, c["name"])
            assert sc.get("runAsUser", psc["runAsUser"]) != 0, (where, c["name"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_namespace_enforces_restricted(overlay: str) -> None:
    (ns,) = by_kind(render(overlay), "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_in_any_environment_variable(overlay: str) -> None:
    docs = render(overlay)
    env_values: list[tuple[str, str, str]] = []
    for owner, tpl in pods(docs):
        for c in containers(tpl):
            assert not any("secretRef" in e for e in c.get("envFrom", [])), owner["metadata"]["name"]
            for e in c.get("env", []):
                assert "secretKeyRef" not in e.get("valueFrom", {}), (owner["metadata"]["name"], e["name"])
                env_values.append((owner["metadata"]["name"], e["name"], str(e.get("value", ""))))
    for cm in by_kind(docs, "ConfigMap"):
        if cm["metadata"]["name"] == "aiops-kong":
            continue  # the gateway's own config, checked in test_render
        for k, v in (cm.get("data") or {}).items():
            env_values.append((cm["metadata"]["name"], k, str(v)))
    for where, name, value in env_values:
        assert not URL_WITH_PASSWORD.search(value), f"{where}: {name} carries a password in a URL"
        if SECRETISH_NAME.search(name):
            assert name.endswith(("_DIR", "_FILE", "_PATH", "_ID")), f"{where}: {name} looks like a secret"


def test_the_checks_above_catch_a_password_in_a_url() -> None:
    assert URL_WITH_PASSWORD.search("postgresql://aiops_app:hunter2@postgres:5432/aiops")
    assert not URL_WITH_PASSWORD.search("postgresql://aiops_app@postgres.aiops-system.svc:5432/aiops")
    assert not URL_WITH_PASSWORD.search("http://prometheus.monitoring.svc:9090")


def test_the_table_keeps_the_llm_key_with_the_worker() -> None:
    table = secret_table()
    for key in LLM_KEYS:
        assert set(table[key]) == {"worker"}, f"{key} must be mounted by the worker only"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_pod_mounts_only_the_secret_files_listed_for_it(overlay: str) -> None:
    table = secret_table()
    for owner, tpl in pods(render(overlay)):
        comp = component(tpl)
        files = mounted_secret_files(tpl)
        allowed = {f: col[comp] for f, col in table.items() if comp in col}
        extra = set(files) - set(allowed)
        assert not extra, f"{owner['metadata']['name']} mounts {sorted(extra)}, not listed for {comp}"
        for name, (source, optional) in files.items():
            if source.startswith("aiops-"):  # a Kubernetes Secret: its own, never another component's
                assert source == f"aiops-{comp}", (owner["metadata"]["name"], name, source)
            if allowed[name] == "required":
                assert not optional, f"{comp}: required {name} is mounted as optional"
        missing = {f for f, need in allowed.items() if need == "required"} - set(files)
        assert not missing, f"{comp} lacks required {sorted(missing)}"
        for c in containers(tpl):
            mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"] == SECRETS_DIR]
            assert all(m.get("readOnly") for m in mounts)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_worker_has_kubernetes_access_and_it_is_read_only(overlay: str) -> None:
    docs = render(overlay)
    for _, tpl in pods(docs):
        comp = component(tpl)
        assert tpl["spec"]["serviceAccountName"] == f"aiops-{comp}"
        assert tpl["spec"].get("automountServiceAccountToken") is (comp == "worker"), comp
    bindings = by_kind(docs, "ClusterRoleBinding") + by_kind(docs, "RoleBinding")
    subjects = {s["name"] for b in bindings for s in b["subjects"]}
    assert subjects == {"aiops-worker"}
    assert not by_kind(docs, "Role")
    for role in by_kind(docs, "ClusterRole"):
        for rule in role["rules"]:
            assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
            assert "*" not in rule["resources"] and "*" not in rule.get("apiGroups", [])
            assert "secrets" not in rule["resources"], "list/watch on secrets reveals them"
            assert "nodes/proxy" not in rule["resources"]
            assert not rule.get("nonResourceURLs")


def _policies(docs: list[dict]) -> list[dict]:
    return by_kind(docs, "NetworkPolicy")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policy_denies_by_default_for_every_pod(overlay: str) -> None:
    docs = render(overlay)
    deny = [
        p
        for p in _policies(docs)
        if set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "no default-deny policy"
    for owner, tpl in pods(docs):
        labels = tpl["metadata"]["labels"]
        assert any(selects(p["spec"]["podSelector"], labels) for p in deny), owner["metadata"]["name"]


def _ingress_grants(docs: list[dict]) -> set[tuple[str, int, str]]:
    """(component, port, peer) for every ingress any policy allows to any of our pods."""
    comps = {component(t): t["metadata"]["labels"] for _, t in pods(docs)}
    grants: set[tuple[str, int, str]] = set()
    for p in _policies(docs):
        for rule in p["spec"].get("ingress", []):
            assert rule.get("from"), f"{p['metadata']['name']}: ingress from anywhere"
            assert rule.get("ports"), f"{p['metadata']['name']}: ingress on every port"
            for peer in rule["from"]:
                ns = (peer.get("namespaceSelector") or {}).get("matchLabels")
                name = (
                    "gateway"
                    if ns == GATEWAY and peer.get("podSelector")
                    else ("monitoring" if ns == MONITORING else repr(peer))
                )
                for comp, labels in comps.items():
                    if selects(p["spec"]["podSelector"], labels):
                        grants |= {(comp, port["port"], name) for port in rule["ports"]}
    return grants


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_only_from_the_gateway_and_metrics_only_from_monitoring(overlay: str) -> None:
    assert _ingress_grants(render(overlay)) == {
        ("receiver", 3000, "gateway"),
        ("api", 8080, "gateway"),
        ("receiver", 9464, "monitoring"),
        ("worker", 9464, "monitoring"),
        ("api", 9464, "monitoring"),
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_metrics_are_never_on_the_public_webhook_port(overlay: str) -> None:
    docs = render(overlay)
    (monitor,) = by_kind(docs, "ServiceMonitor")
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
    scraped = [
        s for s in by_kind(docs, "Service") if selects(monitor["spec"]["selector"], s["metadata"]["labels"])
    ]
    assert {s["metadata"]["name"] for s in scraped} == {
        f"aiops-{c}-metrics" for c in ("receiver", "worker", "api")
    }
    for s in scraped:
        assert [(p["port"], p["targetPort"]) for p in s["spec"]["ports"]] == [(9464, "metrics")]
    for _, tpl in pods(docs):
        for c in containers(tpl):
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            if "metrics" in ports:
                assert ports["metrics"] == 9464 and list(ports.values()).count(9464) == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_cluster_addresses_are_set_per_overlay(overlay: str) -> None:
    for p in _policies(render(overlay)):
        text = repr(p)
        assert "192.0.2." not in text, f"{p['metadata']['name']}: base placeholder left in {overlay}"
        assert "10.0.0.1/32" not in text, "the seed's example API server address"
    egress_peers = {p["metadata"]["name"] for p in _policies(render(overlay)) if p["spec"].get("egress")}
    assert {
        "aiops-egress-apiserver",
        "aiops-egress-keycloak",
        "aiops-egress-llm",
        "aiops-egress-object-store",
        "aiops-egress-dns",
    } <= egress_peers


def test_base_addresses_are_unroutable_placeholders() -> None:
    from tests.deploy._render import DEPLOY, render_dir

    base = render_dir(DEPLOY / "base")
    cidrs = {
        blk["ipBlock"]["cidr"]
        for p in _policies(base)
        for rule in p["spec"].get("egress", [])
        for blk in rule["to"]
        if "ipBlock" in blk
    }
    per_overlay = {c for c in cidrs if c != "0.0.0.0/0"}
    assert per_overlay and all(c.startswith("192.0.2.") for c in per_overlay)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_reach_the_llm_and_the_api_server_and_nobody_else_does(overlay: str) -> None:
    docs = render(overlay)
    comps = {component(t): t["metadata"]["labels"] for _, t in pods(docs)}
    for name in ("aiops-egress-llm", "aiops-egress-apiserver", "aiops-egress-prometheus"):
        (p,) = [x for x in _policies(docs) if x["metadata"]["name"] == name]
        assert {c for c, labels in comps.items() if selects(p["spec"]["podSelector"], labels)} == {"worker"}


def _table_by_component() -> dict[str, set[str]]:
    table = secret_table()
    return {c: {f for f, col in table.items() if c in col} for c in table_components()}


def test_secret_templates_list_every_key_of_the_table() -> None:
    import yaml

    from tests.deploy._render import DEPLOY

    want = {f"aiops-{c}": files for c, files in _table_by_component().items() if files}
    example = yaml.safe_load_all((DEPLOY / "secrets" / "secrets.example.yaml").read_text())
    assert {s["metadata"]["name"]: set(s["stringData"]) for s in example if s} == want
    external = by_kind(render("prod"), "ExternalSecret")
    assert {
        e["spec"]["target"]["name"]: {d["secretKey"] for d in e["spec"]["data"]} for e in external
    } == want
    for e in external:
        assert e["metadata"]["name"] == e["spec"]["target"]["name"]


def test_every_secret_file_the_app_reads_has_a_row_in_the_table() -> None:
    """A new secret file needs a deploy decision (which component mounts it) before it ships."""
    from app.config import SECRET_NAMES

    missing = set(SECRET_NAMES) - set(secret_table())
    assert not missing, f"add {sorted(missing)} to docs/operations.md, Secrets per component"
