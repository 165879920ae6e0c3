"""Property (real PostgreSQL): whatever the records and whatever namespaces a reader may see, the
store hands back only records of those namespaces, and node records only when cluster-wide data
was asked for. The tool passes exactly the scope's namespaces (tests/tools/kubernetes/test_changes.py)
and filters again; this is the layer below."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.changes.store import ChangeStore

NAMESPACES = ["a", "b", "c", "kube-system", ""]  # "" = a cluster-scoped object (node)

records = st.lists(st.tuples(st.sampled_from(NAMESPACES), st.integers(0, 120)), min_size=1, max_size=12)
readers = st.tuples(st.none() | st.sets(st.sampled_from(NAMESPACES[:-1]), max_size=3), st.booleans())


async def _check(dsn: str, rows: list[tuple[str, int]], reader: tuple[set[str] | None, bool]) -> None:
    tag = uuid.uuid4().hex[:8]
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    assert pool is not None
    try:
        prefix = {ns: (f"{ns}-{tag}" if ns else "") for ns in NAMESPACES}
        await pool.executemany(
            "INSERT INTO change_records (kind, namespace, name, resource_version, change, changed_at)"
            " VALUES ($1, $2, $3, $4, 'updated', now() - $5::interval)",
            [
                (
                    "node" if not ns else "configmap",
                    prefix[ns],
                    f"obj-{tag}-{i}",
                    str(i),
                    timedelta(minutes=age),
                )
                for i, (ns, age) in enumerate(rows)
            ],
        )
        allowed, cluster = reader
        namespaces = None if allowed is None else [prefix[ns] for ns in sorted(allowed)]
        since = datetime.now(UTC) - timedelta(minutes=60)
        got = await ChangeStore(pool=pool).recorded(
            namespaces=namespaces, cluster=cluster, since=since, limit=500
        )
        mine = [i for i in got if tag in i["name"]]
        for entry in mine:
            if entry["namespace"] is None:
                assert cluster and entry["kind"] == "node"
            else:
                assert namespaces is None or entry["namespace"] in namespaces
        expected = [
            i for i, (ns, age) in enumerate(rows)
            if age < 60 and ((ns and (allowed is None or ns in allowed)) or (not ns and cluster))
        ]  # fmt: skip
        assert sorted(int(i["name"].rsplit("-", 1)[1]) for i in mine) == sorted(expected)
        times = [i["time"] for i in got]
        assert times == sorted(times, reverse=True)  # newest first
    finally:
        await pool.execute("DELETE FROM change_records WHERE name LIKE $1", f"obj-{tag}-%")
        await pool.close()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rows=records, reader=readers)
def test_records_never_leave_the_readers_namespaces(
    pg_dsn: str, rows: list[tuple[str, int]], reader: tuple[set[str] | None, bool]
) -> None:
    asyncio.run(_check(pg_dsn, rows, reader))
