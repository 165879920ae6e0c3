"""Incident memory in a real Qdrant (local mode): an asker only ever gets incidents whose every
namespace is theirs (hypothesis, against the filter and the second layer together), nothing past the
90-day retention, and stored text carries no quoted log line and no secret."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.incidents.memory import LOG_LINES, IncidentMemory, IncidentRecord, redact
from kernel.scope import EffectiveScope, Identity, effective_scope

UNIVERSE = ["checkout", "payments", "a|b", ".*", "kube-system"]  # regex-looking names are plain values


def scope(role: str, namespaces: set[str], channel: set[str] | None = None) -> EffectiveScope:
    ident = Identity(slack_user_id="U1", subject="kc", username="u", roles=frozenset({role}),
                     namespaces=frozenset(namespaces))
    listed = None if channel is None else frozenset(channel)
    return effective_scope(ident, channel_id="C1", channel_namespaces=listed)


def record(n: int, namespaces: list[str], *, days_ago: float = 1) -> IncidentRecord:
    return IncidentRecord(
        channel_id="C0INC", thread_ts=f"1700000000.{n:06d}", alertname="DiskFull",
        namespaces=tuple(namespaces), labels={"alertname": "DiskFull"}, link=None,
        resolved_at=datetime.now(UTC) - timedelta(days=days_ago),
        findings=(f"disk full on volume {n}",), fix="grew the volume", summary="DiskFull",
    )


@pytest.fixture(scope="module")
def memory_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("qdrant")


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[IncidentMemory]:
    m = IncidentMemory.open(url=None, data_dir=tmp_path)
    yield m
    await m.close()


STORED = [
    ["checkout"], ["payments"], ["checkout", "payments"], [], ["a|b"], [".*"], ["kube-system", "checkout"],
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    role=st.sampled_from(["viewer", "analyst", "admin"]),
    mine=st.sets(st.sampled_from(UNIVERSE)),
    channel=st.one_of(st.none(), st.sets(st.sampled_from(UNIVERSE))),
)
def test_an_asker_gets_exactly_the_incidents_their_scope_covers(
    memory_path: Path, role: str, mine: set[str], channel: set[str] | None
) -> None:
    async def run() -> None:
        m = IncidentMemory.open(url=None, data_dir=memory_path)
        try:
            for i, ns in enumerate(STORED):
                await m.store(record(i, ns))
            s = scope(role, mine, channel)
            found = await m.similar("DiskFull disk full volume", s, limit=20)
            got = sorted(tuple(sorted(p.namespaces)) for p in found)
            if s.namespaces is None:
                want = sorted(tuple(sorted(ns)) for ns in STORED if ns or s.cluster_wide)
            else:
                allowed = s.namespaces
                want = sorted(tuple(sorted(ns)) for ns in STORED if ns and set(ns) <= allowed)
            assert got == want
        finally:
            await m.close()

    asyncio.run(run())


async def test_nothing_past_the_retention_and_the_purge_removes_it(memory: IncidentMemory) -> None:
    admin = scope("admin", set())
    await memory.store(record(1, ["checkout"], days_ago=10))
    assert [p.findings for p in await memory.similar("DiskFull", admin)] == [("disk full on volume 1",)]
    # 85 days later it is past the retention: never shown, even before anything purged it
    assert await memory.similar("DiskFull", admin, now=time.time() + 85 * 86400) == []
    await memory.store(record(2, ["checkout"], days_ago=91))  # every store also purges expired points
    assert await memory.purge() == 0
    assert await memory.purge(older_than=timedelta(hours=1)) == 1
    assert await memory.similar("DiskFull", admin) == []


async def test_an_unreachable_server_is_a_backend_error_not_a_crash(tmp_path: Path) -> None:
    from kernel.errors import BackendError

    m = IncidentMemory.open(url="http://127.0.0.1:9", data_dir=tmp_path)
    with pytest.raises(BackendError, match="incident memory unavailable"):
        await m.similar("DiskFull", scope("admin", set()))


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("It failed:\n```\n2026-11-26T10:00:01Z ERROR db password=hunter2\n```\nthen recovered", "hunter2"),
        ("The log says\n> panic: runtime error: index out of range [3]\nso it crashed", "index out of range"),
        ('The pod printed "connection reset by peer while reading the body" twice', "reset by peer"),
        ("2026-11-26 10:00:01 WARN disk 97% on /var/lib/data (node-7)", "node-7"),
        ("level=error msg=\"upstream timeout\" user=alice@example.com", "alice@example.com"),
        ("Use `kubectl rollout undo`; the token: Bearer abcdefghijklmnopqrstuvwxyz123456", "abcdefghijklm"),
    ],
)
def test_quoted_log_lines_and_secrets_are_redacted(text: str, gone: str) -> None:
    out = redact(text)
    assert gone not in out
    assert LOG_LINES in out or "[REDACTED]" in out


def test_names_and_queries_survive_redaction() -> None:
    text = "Rolled back `payments-api` to v41; `sum(rate(http_requests_total{code=~\"5..\"}[5m]))` is flat."
    assert redact(text) == text
