"""Every failure kind of kinds_catalog.py, served by the Kubernetes simulator and run through the
real `analyze` tool over HTTP via the router: the fault is named with its cause, the healthy control
of the same kind raises nothing, and the whole planted set is named by offline mode."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from app.agent.offline import OfflineResponder
from sim.kubernetes import Scenario
from tests.fixtures.kubernetes import ClusterFactory, scope_for
from tests.tools._router_kit import unwrap
from tests.tools.analyzers.kinds_catalog import CASES, NAMESPACES, Case
from tests.tools.kubernetes.conftest import RouterFactory, ctx_for
from tools.kubernetes.client import METADATA_ACCEPT

ADMIN = scope_for(("admin",), ())
_IPV4 = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")


def _namespace_of(case: Case) -> str | None:
    obj = next(o for o in case.fault if o["metadata"]["name"] == case.expect[2])
    return str(obj["metadata"].get("namespace"))


def scenario_of(cases: list[Case]) -> Scenario:
    scenario = Scenario()
    for case in cases:
        for obj in [*case.fault, *case.healthy]:
            scenario.add(copy.deepcopy(obj))
        scenario.logs.update(case.logs)
    return scenario


async def _analyze(
    k8s_cluster: ClusterFactory, make_router: RouterFactory, case: Case
) -> tuple[dict, object]:  # type: ignore[type-arg]
    cluster = await k8s_cluster(scenario_of([case]))
    outcome = await make_router(cluster).invoke("analyze", {}, ctx_for(ADMIN), "tu")
    assert not outcome.is_error, outcome.content
    return unwrap(outcome.content)[2], cluster


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_fault_is_named_with_its_cause_and_the_healthy_control_is_not(
    k8s_cluster: ClusterFactory, make_router: RouterFactory, case: Case
) -> None:
    body, _ = await _analyze(k8s_cluster, make_router, case)
    found = {(f["analyzer"], f["kind"], f["name"]): f for f in body["findings"]}
    assert case.expect in found, sorted(found)
    finding = found[case.expect]
    assert case.needle in finding["summary"] + "\n" + "\n".join(finding["evidence"])
    assert finding["severity"] in ("critical", "warning", "info") and finding["next_query"]
    healthy = {o["metadata"]["name"] for o in case.healthy}
    assert not healthy & {f["name"] for f in body["findings"]}


async def test_service_finding_links_unready_pod_and_probe_but_no_address(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    case = next(c for c in CASES if c.id == "service-not-ready-endpoints")
    body, _ = await _analyze(k8s_cluster, make_router, case)
    svc = next(f for f in body["findings"] if f["analyzer"] == "service_endpoints")
    assert svc["related"] == ["pod/net/checkout-7d-unready"]
    assert any("checkout-7d-unready" in e and "Readiness probe failed" in e for e in svc["evidence"])
    assert not _IPV4.search(svc["summary"] + " ".join(svc["evidence"]))  # the probe URL's pod IP too
    assert "10.244." not in str(body)  # the endpoint addresses the simulator serves never appear
    # the pod's own finding exists too: the link leads somewhere
    assert any(f["analyzer"] == "readiness" and f["name"] == "checkout-7d-unready" for f in body["findings"])


async def test_configmaps_and_secrets_are_only_ever_listed_as_metadata(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    case = next(c for c in CASES if c.id == "ingress-tls-missing")
    body, cluster = await _analyze(k8s_cluster, make_router, case)
    sensitive = [r for r in cluster.sim.requests if r.path.endswith(("/secrets", "/configmaps"))]
    assert sensitive and all(r.accept == METADATA_ACCEPT and r.status == 200 for r in sensitive)
    assert not [r for r in cluster.sim.requests if "/secrets/" in r.path or "/configmaps/" in r.path]
    assert "U0VDUkVULUtFWS1EQVRB" not in str(body)


async def test_every_planted_fault_is_named_by_offline_mode(
    k8s_cluster: ClusterFactory, make_router: RouterFactory
) -> None:
    """A namespaced user (offline mode asks `analyze` per namespace), then an admin for the
    cluster-scoped kinds: the answer names each planted object."""
    namespaced = [c for c in CASES if not c.cluster_scoped]
    cluster = await k8s_cluster(scenario_of(namespaced))
    user = scope_for(("viewer",), NAMESPACES)
    responder = OfflineResponder(router=make_router(cluster))
    missing = []
    for ns in NAMESPACES:  # offline mode answers the namespace the question names
        answer = await responder.answer(
            job_id=f"job-{ns}", session_id=None, scope=user, reason="Claude is unavailable",
            question=f"what is broken in namespace {ns}?",
        )  # fmt: skip
        missing += [c.id for c in namespaced if _namespace_of(c) == ns and c.expect[2] not in answer.text]
    assert not missing, (missing, answer.text)
    # a scoped user's cluster-scoped checks are existence gets of names their objects use, never lists
    paths = cluster.sim.paths()
    assert "/apis/storage.k8s.io/v1/storageclasses/premium-rwo" in paths
    assert not [
        p
        for p in paths
        if p.endswith(
            (
                "/storageclasses",
                "/ingressclasses",
                "/nodes",
                "/gatewayclasses",
                "/persistentvolumes",
                "/clustercatalogs",
                "/clusterextensions",
            )
        )
    ]

    cluster_cases = [c for c in CASES if c.cluster_scoped]
    admin_cluster = await k8s_cluster(scenario_of(cluster_cases))
    answer = await OfflineResponder(router=make_router(admin_cluster)).answer(
        job_id="job-offline-2", session_id=None, scope=ADMIN, reason="Claude is unavailable"
    )
    missing = [c.id for c in cluster_cases if c.expect[2] not in answer.text]
    assert not missing, answer.text


async def test_one_list_call_per_kind_and_namespace(k8s_cluster: ClusterFactory) -> None:
    from tools.analyzers.tool import analyze

    cluster = await k8s_cluster(scenario_of([c for c in CASES if not c.cluster_scoped]))
    await analyze(cluster.client, scope_for(("viewer",), NAMESPACES))
    lists = [r.path for r in cluster.sim.requests if "/log" not in r.path and r.path.count("/") % 2 == 1]
    assert len(lists) == len(set(lists)), "a kind was listed twice in one namespace"
    per_ns = {ns: sum(f"/namespaces/{ns}/" in p for p in lists) for ns in NAMESPACES}
    assert len(set(per_ns.values())) == 1  # every namespace: the same calls, one per kind


def test_secret_metadata_keeps_no_annotation_value() -> None:
    """kubectl's last-applied-configuration annotation on a Secret holds its data."""
    from tools.kubernetes.facts import FACTS

    applied = '{"apiVersion":"v1","data":{"password":"aHVudGVyMg=="},"kind":"Secret"}'
    fact = FACTS["secret"](
        {"metadata": {"name": "db", "namespace": "apps",
                      "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied}}}
    )  # fmt: skip
    assert "aHVudGVyMg==" not in str(fact) and fact["name"] == "db"


async def test_without_secret_names_the_rest_still_works_and_says_so(tmp_path: Path) -> None:
    """The base ClusterRole does not grant Secrets: analyze skips only the Secret checks, with a note."""
    from sim.kubernetes import KubernetesSimulator
    from tools.analyzers.tool import analyze
    from tools.kubernetes.client import KubernetesClient

    cases = [c for c in CASES if c.id in ("ingress-tls-missing", "ingress-backend-missing", "secret-missing")]
    async with KubernetesSimulator(scenario=scenario_of(cases), forbidden=frozenset({"secrets"})) as sim:
        client = KubernetesClient(kubeconfig=str(sim.write_kubeconfig(tmp_path / "kc")))
        try:
            findings, notes = await analyze(client, ADMIN)
        finally:
            await client.close()
    text = " ".join(f.summary for f in findings)
    assert "api-v2, which does not exist" in text  # the backend check still runs
    assert "Secret" not in text  # no false "missing Secret" when names cannot be read
    assert notes == ["Secret names are not readable here; checks for missing Secrets were skipped."]
