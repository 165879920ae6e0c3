"""`analyze` over a synthetic cluster: 50 namespaces, 5,000 pods and every kind the analyzers read
(Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, Services + EndpointSlices,
Ingresses, NetworkPolicies, PDBs, HPAs, ConfigMaps/Secrets (metadata), ServiceAccounts, Roles,
RoleBindings, PVCs, Gateways, HTTPRoutes, OLM Subscriptions, CatalogSources, CSVs, InstallPlans and
OperatorGroups, Warning events; nodes, StorageClasses, PVs, webhooks, GatewayClasses, ClusterCatalogs,
ClusterExtensions), with faults planted in a few percent of them.

The Kubernetes simulator runs in a child process, so the figures below are the analyzer side only:
API calls made, wall time, CPU time of this process (the process's first call, which sets up
the client, and the steady state of the calls after it), peak Python memory (tracemalloc). Baselines
measured in the same run: the same state through the 12 analyzers the project started with
(CPU of the analyzer pass), and a 1,000-pod cluster (memory per pod).

    .venv/bin/python bench/analyzers.py [--namespaces 50] [--pods 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analyzers_cluster import build
from kernel.scope import Identity, effective_scope
from tools.analyzers.registry import ANALYZERS
from tools.analyzers.state import _KINDS, collect_state
from tools.analyzers.state_extra import METADATA, NAMESPACED
from tools.analyzers.tool import analyze
from tools.kubernetes.client import KubernetesClient

STEADY = 3
ORIGINAL = (
    "crashloop", "oomkilled", "image_pull", "container_config", "unschedulable", "readiness",
    "restart_burst", "workload_unavailable", "failed_job", "pending_pvc", "node_health", "firing_alert",
)  # fmt: skip


def _serve(conn: Connection, namespaces: int, pods: int) -> None:
    from sim.kubernetes import KubernetesSimulator

    async def main() -> None:
        sim = await KubernetesSimulator(scenario=build(namespaces, pods)).start()
        conn.send((sim.url, sim.token))
        while True:
            msg = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            if msg == "stop":
                break
            conn.send([r.path for r in sim.requests])
            sim.requests.clear()
        await sim.close()

    asyncio.run(main())


def _scope(namespaces: list[str] | None) -> Any:
    roles = frozenset({"admin"} if namespaces is None else {"viewer"})
    identity = Identity(slack_user_id="U-bench", subject="s", username="bench", roles=roles,
                        namespaces=frozenset(namespaces or ()))  # fmt: skip
    return effective_scope(identity, channel_id=None, channel_namespaces=None)


async def _timed(client: KubernetesClient, scope: Any) -> tuple[int, float, float]:
    """(findings, wall s, CPU s of this process: every thread, so the client's too)."""
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    findings, _ = await analyze(client, scope)
    wall, cpu1 = time.perf_counter() - wall0, resource.getrusage(resource.RUSAGE_SELF)
    return len(findings), wall, (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)


async def _measure(client: KubernetesClient, conn: Connection, scope: Any) -> dict[str, Any]:
    """The first call (calls, wall, CPU: for the cluster-wide run it is the process's first, so it
    pays the client's set-up), then STEADY more calls (a worker's steady state: mean wall and CPU,
    any garbage collection the first ones left behind included), then one under tracemalloc (peak
    memory): tracing every allocation slows the run several-fold, so the two are never mixed."""
    findings, wall, cpu = await _timed(client, scope)
    conn.send("paths")
    paths: list[str] = conn.recv()
    per_ns = Counter(
        p.split("/namespaces/")[1].split("/")[0] for p in paths if "/namespaces/" in p and "/log" not in p
    )
    steady = [await _timed(client, scope) for _ in range(STEADY)]
    tracemalloc.start()
    await analyze(client, scope)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    conn.send("paths")
    conn.recv()
    return {
        "calls": len(paths),
        "logs": sum(p.endswith("/log") for p in paths),
        "max_same_path": max(Counter(paths).values()),
        "per_ns": sorted(set(per_ns.values())),
        "other": len(paths) - sum(per_ns.values()) - sum(p.endswith("/log") for p in paths),
        "wall": wall,
        "cpu": cpu,
        "steady_wall": sum(s[1] for s in steady) / STEADY,
        "steady_cpu": sum(s[2] for s in steady) / STEADY,
        "peak_mb": peak / 2**20,
        "findings": findings,
    }


async def _cluster_run(
    namespaces: int, pods: int
) -> tuple[dict[str, Any], dict[str, Any], tuple[float, float]]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child, namespaces, pods))
    proc.start()
    try:
        url, token = parent.recv()
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = Path(tmp) / "kubeconfig"
            kubeconfig.write_text(yaml.safe_dump({
                "apiVersion": "v1", "kind": "Config", "current-context": "sim",
                "clusters": [{"name": "sim", "cluster": {"server": url}}],
                "users": [{"name": "u", "user": {"token": token}}],
                "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "u"}}]}))  # fmt: skip
            client = KubernetesClient(kubeconfig=str(kubeconfig), request_timeout_s=120)
            wide = await _measure(client, parent, _scope(None))
            scoped = await _measure(
                client, parent, _scope([f"team-{n:02d}" for n in range(min(25, namespaces))])
            )
            state, _ = await collect_state(client, _scope(None), None)
            parent.send("paths")
            parent.recv()
            await client.close()
        t0 = time.process_time()
        for run in ANALYZERS.values():
            run(state)
        every = time.process_time() - t0
        t0 = time.process_time()
        for name in ORIGINAL:
            ANALYZERS[name](state)
        original = time.process_time() - t0
        return wide, scoped, (every, original)
    finally:
        parent.send("stop")
        proc.join(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--pods", type=int, default=5000)
    args = parser.parse_args()
    kinds = len(_KINDS) + 1 + len(NAMESPACED) + len(METADATA)  # + 1: Warning events
    print(
        f"analyze over {args.namespaces} namespaces, {args.pods} pods, every kind "
        "(simulator in a child process)"
    )
    wide, scoped, (every, original) = asyncio.run(_cluster_run(args.namespaces, args.pods))
    small, _, _ = asyncio.run(_cluster_run(args.namespaces, args.pods // 5))
    for label, r in (("cluster-wide admin", wide), ("viewer of 25 namespaces", scoped)):
        print(
            f"  {label:<24} API calls {r['calls']:>4} (log reads {r['logs']}, max calls to one path "
            f"{r['max_same_path']}); first call wall {r['wall']:.2f} s, CPU {r['cpu']:.2f} s; "
            f"steady state (mean of {STEADY}) wall {r['steady_wall']:.2f} s, CPU {r['steady_cpu']:.2f} s "
            f"(target <= 1 s); peak memory {r['peak_mb']:.1f} MiB, findings {r['findings']}"
        )
    print(
        f"  scoped: list calls per namespace {scoped['per_ns']} for {kinds} kinds (one per kind), plus "
        f"{scoped['other']} existence gets of cluster objects its objects name; cluster-wide: "
        f"{wide['calls'] - wide['logs']} lists in all"
    )
    print(f"  analyzer pass alone: {every * 1000:.0f} ms CPU for {len(ANALYZERS)} analyzers; "
          f"baseline (the {len(ORIGINAL)} original ones, same state) {original * 1000:.0f} ms "
          f"-> ratio {every / max(original, 1e-9):.1f}x")  # fmt: skip
    print(f"  memory: {args.pods // 5} pods peak {small['peak_mb']:.1f} MiB, "
          f"{args.pods} pods {wide['peak_mb']:.1f} MiB "
          f"-> {wide['peak_mb'] / max(small['peak_mb'], 1e-9):.1f}x for 5x the pods "
          f"({wide['peak_mb'] * 1024 / args.pods:.1f} KiB per pod)")  # fmt: skip


if __name__ == "__main__":
    main()
