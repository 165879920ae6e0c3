"""The change watcher on real PostgreSQL against the Kubernetes simulator (real client, HTTP):
it records changes — not status noise — once per object version even with several workers, keeps
metadata only (ConfigMap data and Secrets are never requested nor stored), hands the records back
scoped, and the 90-day retention purges them.

Every test renames the scenario's namespaces and nodes with a unique suffix: the session database
is shared, and other tests' watchers record their own clusters into the same tables."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from app.changes.store import ChangeStore
from app.changes.watcher import ChangeWatcher
from app.memory.notes import NoteStore
from app.retention import purge_change_records, purge_conversations, purge_incidents
from sim.kubernetes import Scenario
from tests.app.audit.test_roles import as_role
from tests.fixtures.kubernetes import ClusterFactory, SimCluster
from tools.kubernetes.client import METADATA_ACCEPT, KubernetesClient

LEAKS = ("must-never-leak", "c2VjcmV0", "DB_PASSWORD", "DISCOUNT_TOKEN")


def unique_scenario() -> tuple[Scenario, str]:
    """The `changes` scenario with every namespace and node name suffixed (e.g. checkout-1a2b3c)."""
    suffix = uuid.uuid4().hex[:6]
    scenario = Scenario()
    for obj in copy.deepcopy(Scenario.load("changes").objects):
        meta = obj["metadata"]
        if meta.get("namespace"):
            meta["namespace"] = f"{meta['namespace']}-{suffix}"
        else:
            meta["name"] = f"{meta['name']}-{suffix}"
        scenario.add(obj)
    return scenario, suffix


def find(cluster: SimCluster, kind: str, name: str) -> dict[str, Any]:
    """The object in the (suffixed) checkout namespace."""
    return next(
        o
        for o in cluster.sim.scenario.objects
        if o["kind"] == kind
        and o["metadata"]["name"] == name
        and str(o["metadata"].get("namespace")).startswith("checkout-")
    )


def change(cluster: SimCluster, kind: str, name: str, version: str, edit: Any) -> None:
    """A new version of one object in the simulated cluster (edit: a function on a copy)."""
    obj = copy.deepcopy(find(cluster, kind, name))
    obj["metadata"]["resourceVersion"] = version
    edit(obj)
    cluster.sim.scenario.add(obj)


async def rows(pool: asyncpg.Pool, suffix: str) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT * FROM change_records WHERE namespace LIKE $1 OR name LIKE $1 ORDER BY id", f"%-{suffix}"
        )
    )


def watcher(cluster: SimCluster, pool: asyncpg.Pool, holder: str = "w1") -> ChangeWatcher:
    return ChangeWatcher(client=cluster.client, store=ChangeStore(pool=pool), holder=holder)


async def test_records_changes_once_per_version_and_not_status_noise(
    k8s_cluster: ClusterFactory, pg_pool: asyncpg.Pool
) -> None:
    scenario, sfx = unique_scenario()
    cluster = await k8s_cluster(scenario)
    first = await watcher(cluster, pg_pool).poll_once(force=True)
    # first sight records only states that vanish or flip back: the failed Job and the troubled nodes
    assert first == 3
    seen = {(r["kind"], r["name"], r["change"]) for r in await rows(pg_pool, sfx)}
    assert seen == {
        ("job", "db-migrate-42", "failed"),
        ("node", f"node-a-{sfx}", "cordoned"),
        ("node", f"node-b-{sfx}", "pressure"),
    }
    assert await watcher(cluster, pg_pool).poll_once(force=True) == 0  # nothing new

    def new_image(obj: dict[str, Any]) -> None:
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.com/checkout:1.9.0"

    change(cluster, "Deployment", "checkout", "5101", new_image)
    # several workers observe the same version at once: one record
    added = await asyncio.gather(
        *(watcher(cluster, pg_pool, f"w{i}").poll_once(force=True) for i in range(3))
    )
    assert sum(added) == 1
    rollout = (await rows(pg_pool, sfx))[-1]
    assert (rollout["kind"], rollout["name"], rollout["change"], rollout["resource_version"]) == (
        "deployment", "checkout", "rollout", "5101",
    )  # fmt: skip
    assert rollout["detail"] == "1 image changed"
    assert json.loads(rollout["previous_images"]) == {"api": "registry.example.com/checkout:1.8.0"}
    assert json.loads(rollout["images"]) == {"api": "registry.example.com/checkout:1.9.0"}
    assert rollout["replicas"] == 4 and rollout["by_manager"] == "kubectl-set"
    assert datetime.now(UTC) - rollout["changed_at"] < timedelta(minutes=5)

    def hpa_status_only(obj: dict[str, Any]) -> None:
        obj["status"]["currentReplicas"] = 4  # the HPA's status moves on every sync: not a change

    change(cluster, "HorizontalPodAutoscaler", "checkout", "5102", hpa_status_only)
    assert await watcher(cluster, pg_pool).poll_once(force=True) == 0

    def hpa_scaled(obj: dict[str, Any]) -> None:
        obj["status"]["desiredReplicas"] = 7

    change(cluster, "HorizontalPodAutoscaler", "checkout", "5103", hpa_scaled)
    change(cluster, "ConfigMap", "checkout-flags", "5104", lambda o: o["data"].update(DISCOUNT_TOKEN="x"))
    assert await watcher(cluster, pg_pool).poll_once(force=True) == 2
    latest = {(r["kind"], r["change"]): r for r in await rows(pg_pool, sfx)}
    scaled = latest[("hpa", "scaled")]
    assert (scaled["previous_replicas"], scaled["replicas"]) == (4, 7)
    assert ("configmap", "updated") in latest


async def test_only_metadata_is_requested_and_stored(
    k8s_cluster: ClusterFactory, pg_pool: asyncpg.Pool
) -> None:
    scenario, sfx = unique_scenario()
    cluster = await k8s_cluster(scenario)
    await watcher(cluster, pg_pool).poll_once(force=True)
    change(cluster, "ConfigMap", "checkout-flags", "5201", lambda o: o["data"].update(DISCOUNT_TOKEN="y"))
    await watcher(cluster, pg_pool).poll_once(force=True)
    requests = cluster.sim.requests
    assert not any("secrets" in r.path for r in requests)  # Secrets: never, not even their names
    configmaps = [r for r in requests if "configmaps" in r.path]
    assert configmaps and all(r.accept == METADATA_ACCEPT for r in configmaps)  # never their data
    assert all(r.method == "GET" and r.status == 200 for r in requests)
    stored = await pg_pool.fetch(
        "SELECT row_to_json(c)::text AS j FROM change_records c WHERE namespace LIKE $1 OR name LIKE $1"
        " UNION ALL SELECT row_to_json(s)::text FROM change_watch_state s"
        " WHERE namespace LIKE $1 OR name LIKE $1",
        f"%-{sfx}",
    )
    assert stored
    dump = "\n".join(r["j"] for r in stored)
    assert not any(leak in dump for leak in LEAKS), dump
    assert "registry.example.com/checkout:1.8.0" in dump  # image references are what we keep


async def test_the_lease_lets_one_worker_poll_per_interval(
    k8s_cluster: ClusterFactory, pg_pool: asyncpg.Pool
) -> None:
    scenario, _ = unique_scenario()
    cluster = await k8s_cluster(scenario)
    await pg_pool.execute("UPDATE change_watch_lease SET polled_at = 'epoch' WHERE id = 1")
    watchers = [
        ChangeWatcher(client=cluster.client, store=ChangeStore(pool=pg_pool), holder=f"w{i}", poll_s=3600)
        for i in range(3)
    ]
    await asyncio.gather(*(w.poll_once() for w in watchers))
    node_lists = [r for r in cluster.sim.requests if r.path == "/api/v1/nodes"]
    assert len(node_lists) == 1  # exactly one of the three listed the cluster
    await pg_pool.execute("UPDATE change_watch_lease SET polled_at = 'epoch' WHERE id = 1")


async def test_records_come_back_scoped_and_newest_first(
    k8s_cluster: ClusterFactory, pg_pool: asyncpg.Pool
) -> None:
    scenario, sfx = unique_scenario()
    cluster = await k8s_cluster(scenario)
    store = ChangeStore(pool=pg_pool)
    await watcher(cluster, pg_pool).poll_once(force=True)
    since = datetime.now(UTC) - timedelta(days=30)
    namespaced = await store.recorded(namespaces=[f"checkout-{sfx}"], cluster=False, since=since, limit=50)
    assert [(i["kind"], i["change"], i["source"]) for i in namespaced] == [("job", "failed", "recorded")]
    nodes = [
        i
        for i in await store.recorded(namespaces=[], cluster=True, since=since, limit=50)
        if sfx in i["name"]
    ]
    assert [(i["name"], i["namespace"]) for i in nodes] == [(f"node-b-{sfx}", None), (f"node-a-{sfx}", None)]
    other = await store.recorded(namespaces=[f"payments-{sfx}"], cluster=False, since=since, limit=50)
    assert other == []


async def test_a_forbidden_kind_is_skipped_not_fatal(pg_pool: asyncpg.Pool, tmp_path: Any) -> None:
    from sim.kubernetes import KubernetesSimulator

    scenario, sfx = unique_scenario()
    async with KubernetesSimulator(scenario=scenario, forbidden=frozenset({"nodes"})) as sim:
        client = KubernetesClient(kubeconfig=str(sim.write_kubeconfig(tmp_path / "kc")))
        try:
            added = await ChangeWatcher(client=client, store=ChangeStore(pool=pg_pool), holder="w").poll_once(
                force=True
            )
        finally:
            await client.close()
    assert added == 1  # the failed Job; nodes could not be listed
    assert [r["kind"] for r in await rows(pg_pool, sfx)] == ["job"]


async def test_retention_purges_records_older_than_90_days(pg_pool: asyncpg.Pool) -> None:
    ns = f"ret-{uuid.uuid4().hex[:6]}"
    await pg_pool.executemany(
        "INSERT INTO change_records (kind, namespace, name, resource_version, change, changed_at)"
        " VALUES ('deployment', $1, $2, $2, 'rollout', now() - $3::interval)",
        [(ns, f"d{days}", timedelta(days=days)) for days in (1, 89, 91, 400)],
    )
    assert await purge_change_records(pg_pool, older_than=timedelta(days=90), dry_run=True) >= 2
    assert await purge_change_records(pg_pool, older_than=timedelta(days=90), batch=1) >= 2
    left = await pg_pool.fetch("SELECT name FROM change_records WHERE namespace = $1 ORDER BY name", ns)
    assert [r["name"] for r in left] == ["d1", "d89"]
    with pytest.raises(ValueError, match="positive"):
        await purge_change_records(pg_pool, older_than=timedelta(0))


async def test_the_retention_role_runs_every_purge_of_retention_run(
    pg_dsn: str, pg_pool: asyncpg.Pool
) -> None:
    """`aiops retention run` connects as aiops_retention and purges conversations, team notes,
    incidents and change records in turn: a missing grant on any of them would stop the nightly Job
    before it reached the change records."""
    ns = f"role-{uuid.uuid4().hex[:6]}"
    await pg_pool.execute(
        "INSERT INTO change_records (kind, namespace, name, resource_version, change, changed_at)"
        " VALUES ('deployment', $1, 'old', '1', 'rollout', now() - interval '100 days')",
        ns,
    )
    pool = await asyncpg.create_pool(as_role(pg_dsn, "aiops_retention"), min_size=1, max_size=1)
    assert pool is not None
    old = timedelta(days=90)
    try:
        await purge_conversations(pool, older_than=old)
        await NoteStore(pool=pool).purge(older_than=old)
        await purge_incidents(pool, older_than=old)
        assert await purge_change_records(pool, older_than=old) >= 1
    finally:
        await pool.close()
    assert await pg_pool.fetchval("SELECT count(*) FROM change_records WHERE namespace = $1", ns) == 0
