""" "What changed" benchmark (issue 15 item 2): what `k8s_changes` and its watcher cost.

1. `k8s_changes` on the `changes` scenario (Kubernetes simulator, real client, over HTTP) for a
   one-namespace viewer and a cluster-wide admin: API calls, latency, and the tokens of its result
   versus the raw JSON of the same API responses (the naive baseline a model would otherwise read).
2. One watcher pass over a cluster of N Deployments and 4N ConfigMaps (real PostgreSQL): the first
   pass (every object's state written once) and a steady pass (nothing changed: nothing written).

    .venv/bin/python bench/changes.py [--deployments 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.audit.migrate import migrate
from app.changes.store import ChangeStore
from app.changes.watcher import ChangeWatcher
from kernel.scope import Identity, effective_scope
from sim.anthropic import estimate_tokens
from sim.kubernetes import KubernetesSimulator, Scenario
from tools.base import ToolContext
from tools.kubernetes.changes import K8sChangesTool
from tools.kubernetes.client import KubernetesClient

ADMIN_DSN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def scope(roles: set[str], namespaces: set[str]) -> Any:
    who = Identity(
        slack_user_id="U", subject="s", username="u", roles=frozenset(roles), namespaces=frozenset(namespaces)
    )
    return effective_scope(who, channel_id=None, channel_namespaces=None)


async def raw_size(sim: KubernetesSimulator, requests: list[Any]) -> int:
    """Bytes of the same API responses, fetched again as a naive tool would pass them on."""
    total = 0
    async with aiohttp.ClientSession() as s:
        for r in requests:
            headers = {"Authorization": f"Bearer {sim.token}", "Accept": r.accept or "application/json"}
            async with s.get(sim.url + r.path, params=r.query, headers=headers) as resp:
                total += estimate_tokens((await resp.read()).decode())
    return total


async def tool_bench(rounds: int = 20) -> None:
    async with KubernetesSimulator(scenario="changes", live_clock=True) as sim:
        with tempfile.TemporaryDirectory() as tmp:
            client = KubernetesClient(kubeconfig=str(sim.write_kubeconfig(Path(tmp) / "kc")))
            tool = K8sChangesTool(client=client)
            for label, who, args in (
                ("viewer, 1 namespace", scope({"viewer"}, {"checkout"}), {"namespace": "checkout"}),
                ("admin, cluster-wide", scope({"admin"}, set()), {}),
            ):
                times, out = [], {}
                for _ in range(rounds):
                    sim.requests.clear()
                    started = time.perf_counter()
                    out = await tool._invoke({"since": "24h", **args}, ToolContext(scope=who, job_id="bench"))
                    times.append((time.perf_counter() - started) * 1000)
                calls = list(sim.requests)
                naive = await raw_size(sim, calls)
                ours = estimate_tokens(json.dumps(out, ensure_ascii=False))
                print(
                    f"k8s_changes {label}: {len(calls)} API calls, {out['count']} changes, "
                    f"{ours} tokens vs {naive} raw ({100 * ours / naive:.0f} %), "
                    f"p50 {statistics.median(times):.1f} ms, max {max(times):.1f} ms"
                )
            await client.close()


def big_cluster(deployments: int) -> Scenario:
    scenario = Scenario()
    for i in range(deployments):
        ns = f"team{i % 20}"
        containers = [{"name": "app", "image": f"registry.example.com/app{i}:1.0.{i}"}]
        scenario.add(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"d{i}", "namespace": ns, "resourceVersion": str(10 * i)},
                "spec": {"replicas": 2, "template": {"spec": {"containers": containers}}},
            }
        )
        for j in range(4):
            version = str(10 * i + j + 1)
            scenario.add(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"c{i}-{j}", "namespace": ns, "resourceVersion": version},
                    "data": {"k": "v" * 200},
                }
            )
    return scenario


async def watcher_bench(deployments: int) -> None:
    name = f"aiops_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    try:
        conn = await asyncpg.connect(dsn)
        await migrate(conn)
        await conn.close()
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        assert pool is not None
        async with KubernetesSimulator(scenario=big_cluster(deployments)) as sim:
            with tempfile.TemporaryDirectory() as tmp:
                client = KubernetesClient(kubeconfig=str(sim.write_kubeconfig(Path(tmp) / "kc")))
                watcher = ChangeWatcher(client=client, store=ChangeStore(pool=pool), holder="bench")
                for label in ("first pass", "steady pass"):
                    before, started = len(sim.requests), time.perf_counter()
                    added = await watcher.poll_once(force=True)
                    states = await pool.fetchval("SELECT count(*) FROM change_watch_state")
                    calls = len(sim.requests) - before
                    print(
                        f"watcher {label}: {deployments * 5} objects, {calls} API calls, "
                        f"{time.perf_counter() - started:.2f} s, {added} change records, {states} states kept"
                    )
                await client.close()
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=500)
    args = parser.parse_args()
    await tool_bench()
    await watcher_bench(args.deployments)


if __name__ == "__main__":
    asyncio.run(main())
