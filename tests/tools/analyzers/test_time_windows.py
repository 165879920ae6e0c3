"""Time windows: a restart burst or an OOM kill is news only while it is recent. Scenarios are
written at `SCENARIO_NOW`; a live-clock simulator (the demo) shifts them to the real now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sim.kubernetes import KubernetesSimulator
from sim.kubernetes_time import SCENARIO_NOW
from tests.fixtures.kubernetes import ClusterFactory, scope_for
from tests.tools.kubernetes.conftest import ctx_for
from tools.analyzers.tool import AnalyzeTool, analyze
from tools.kubernetes.client import KubernetesClient

ADMIN = scope_for(("admin",), ())


async def test_restart_burst_only_while_recent(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster(
        "restart-burst", live_clock=False
    )  # last restart at 09:57:59, scenario now 10:00
    recent, _ = await analyze(cluster.client, ADMIN, now=SCENARIO_NOW)
    assert [f.analyzer for f in recent] == ["restart_burst"]
    later, _ = await analyze(cluster.client, ADMIN, now=SCENARIO_NOW + timedelta(hours=3))
    assert later == []


async def test_oom_kill_of_a_running_container_only_for_a_day(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("oomkilled", live_clock=False)
    assert [f.analyzer for f in (await analyze(cluster.client, ADMIN, now=SCENARIO_NOW))[0]] == ["oomkilled"]
    assert (await analyze(cluster.client, ADMIN, now=SCENARIO_NOW + timedelta(days=2)))[0] == []


async def test_current_faults_have_no_window(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("crashloop", live_clock=False)
    findings, _ = await analyze(cluster.client, ADMIN, now=SCENARIO_NOW + timedelta(days=30))
    assert {f.analyzer for f in findings} == {"crashloop", "workload_unavailable"}


async def test_analyze_tool_uses_its_clock(k8s_cluster: ClusterFactory) -> None:
    cluster = await k8s_cluster("restart-burst", live_clock=False)
    tool = AnalyzeTool(client=cluster.client, clock=lambda: SCENARIO_NOW)
    out = await tool._invoke({}, ctx_for(ADMIN))
    assert [f["analyzer"] for f in out["findings"]] == ["restart_burst"]
    stale = AnalyzeTool(client=cluster.client, clock=lambda: SCENARIO_NOW + timedelta(hours=5))
    assert (await stale._invoke({}, ctx_for(ADMIN)))["findings"] == []


async def test_fixture_default_is_live_so_the_real_clock_sees_recent_faults(
    k8s_cluster: ClusterFactory,
) -> None:
    cluster = await k8s_cluster("oomkilled")
    out = await AnalyzeTool(client=cluster.client)._invoke({}, ctx_for(ADMIN))  # real clock
    assert [f["analyzer"] for f in out["findings"]] == ["oomkilled"]


async def test_live_clock_simulator_keeps_the_demo_current(tmp_path: Path) -> None:
    async with KubernetesSimulator(scenario="restart-burst", live_clock=True) as sim:
        client = KubernetesClient(kubeconfig=str(sim.write_kubeconfig(tmp_path / "kc")))
        try:
            out = await AnalyzeTool(client=client)._invoke({}, ctx_for(ADMIN))  # real clock
            assert [f["analyzer"] for f in out["findings"]] == ["restart_burst"]
            pod = await client.get("pod", "fraud-scorer-7c6b5d4f9-w8n3j", "payments")
            assert pod is not None
            finished = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["finishedAt"]
            age = datetime.now(UTC) - datetime.fromisoformat(finished.replace("Z", "+00:00"))
            assert timedelta(0) <= age < timedelta(minutes=5)
            log = await client.pod_logs(
                "shop", "checkout-7d9f8b6c5-x2kqp", container="app", tail_lines=1, previous=False
            )
            assert log is not None and not log.startswith("2026-11-26T08:10:01Z")  # log timestamps move too
        finally:
            await client.close()
