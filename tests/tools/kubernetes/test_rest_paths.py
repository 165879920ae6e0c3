"""Reads are plain GETs on REST paths (tools/kubernetes/paths.py): every kind we read has a path the
API server (here the simulator) serves, the client answers the same for the generated-method
fallback, and the garbage-collector pause around parsing always restores the collector as found."""

from __future__ import annotations

import gc
import threading

import pytest

from sim.kubernetes_resources import _RESOURCES
from tests.fixtures.kubernetes import ClusterFactory, scope_for
from tools.analyzers.tool import analyze
from tools.kubernetes import paths
from tools.kubernetes.bulk import collector_paused
from tools.kubernetes.client import KINDS, KindSpec

SERVED = {f"{prefix}/{plural}" for prefix, group in _RESOURCES.items() for plural in group}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_read_has_a_rest_path_the_api_server_serves(kind: str) -> None:
    spec = KINDS[kind]
    wide = paths.collection(spec, None)
    assert wide in SERVED, wide
    if spec.namespaced:
        root, plural = wide.rsplit("/", 1)
        assert paths.collection(spec, "shop") == f"{root}/namespaces/shop/{plural}"


def test_path_segments_are_escaped() -> None:
    assert paths.collection(KINDS["pod"], "a/b") == "/api/v1/namespaces/a%2Fb/pods"


async def test_analyze_reads_only_through_rest_paths(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("crashloop")
    findings, _ = await analyze(cluster.client, scope_for(("admin",), ()))
    assert findings and all(r.status in (200, 404) for r in cluster.sim.requests)
    lists = {r.path for r in cluster.sim.requests if not r.path.endswith("/log")}
    assert lists <= SERVED  # cluster-wide admin: one collection path per kind, nothing else


async def test_a_kind_outside_the_path_table_goes_through_its_generated_method(
    k8s_cluster: ClusterFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How a kind of an API group paths.py does not list is read (here one the simulator does not
    serve: an API that is not installed lists as empty, a get finds nothing)."""
    monkeypatch.setitem(
        KINDS, "priorityclass", KindSpec("priorityclass", "SchedulingV1Api", "priority_class", False)
    )
    cluster = await k8s_cluster("crashloop")
    assert paths.collection(KINDS["priorityclass"], None) is None
    assert await cluster.client.list("priorityclass", None) == []
    assert await cluster.client.get("priorityclass", "high", None) is None
    assert "/apis/scheduling.k8s.io/v1/priorityclasses" in cluster.sim.paths()
    pods = await cluster.client.list("pod", None)  # and the path-table kinds are unaffected
    assert pods and all(isinstance(p, dict) for p in pods)


def test_collector_pause_nests_across_threads_and_restores_what_it_found() -> None:
    assert gc.isenabled()
    started, release = threading.Barrier(3), threading.Event()

    def user() -> None:
        with collector_paused():
            started.wait()
            release.wait(5)

    threads = [threading.Thread(target=user) for _ in range(2)]
    for t in threads:
        t.start()
    started.wait()
    assert not gc.isenabled()  # both inside: paused
    release.set()
    for t in threads:
        t.join(5)
    assert gc.isenabled()  # the last one out restores it
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a process that runs without the collector keeps it off
    finally:
        gc.enable()


def test_collector_pause_restores_on_error() -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()
