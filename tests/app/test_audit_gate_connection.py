"""The audit gate's own connection (app/audit/log.py `_Pinned`): tool-call rows skip the pool's
acquire and release, yet no call waits behind another, a lost connection costs at most the call
that was using it, a database that refuses the extra connection leaves the pool to do the work,
and shutdown closes it. Real PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog, _Pinned
from app.stores import create_pg_pool, open_stores
from kernel.audit import AuditEvent
from tests.conftest import REDIS_URL


def event(session: str) -> AuditEvent:
    return AuditEvent(event_type="tool_call", user_id="kc-1", session_id=session, tool_calls=[{"tool": "t"}])


async def rows(pool: asyncpg.Pool, session: str) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM audit_events WHERE session_id = $1", session)
    return count


async def backends(pool: asyncpg.Pool, app: str) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app)
    return count


def connect_as(dsn: str, app: str) -> functools.partial[object]:
    return functools.partial(asyncpg.connect, dsn, server_settings={"application_name": app})


async def gate(log: PostgresAuditLog, session: str) -> None:
    assert await log.write_unless_blocked(event(session), prefix="p", known=frozenset()) is None


async def test_rows_are_written_while_every_pooled_connection_is_taken(pg_dsn: str) -> None:
    pool = await create_pg_pool(pg_dsn, max_size=1)
    log = PostgresAuditLog(pool=pool, agent_version="t", connect=connect_as(pg_dsn, "gate-own"))
    session = f"s-{uuid.uuid4().hex}"
    try:
        async with pool.acquire():  # the pool is exhausted: only the gate's own connection is left
            await asyncio.wait_for(gate(log, session), timeout=10)
            await asyncio.wait_for(gate(log, session), timeout=10)
        assert await rows(pool, session) == 2
        assert await backends(pool, "gate-own") == 1  # one connection, kept between calls
    finally:
        await log.aclose()
        await pool.close()


async def test_a_call_beside_a_busy_gate_connection_is_served_by_the_pool(pg_dsn: str) -> None:
    pool = await create_pg_pool(pg_dsn, max_size=4, server_settings={"application_name": "pool-busy"})
    log = PostgresAuditLog(pool=pool, agent_version="t", connect=connect_as(pg_dsn, "gate-busy"))
    session = f"s-{uuid.uuid4().hex}"
    admin = await asyncpg.connect(pg_dsn)
    try:
        await gate(log, session)
        await admin.execute("BEGIN")  # the gate statement reads the blocklist: make it wait
        await admin.execute("LOCK TABLE blocked_values IN ACCESS EXCLUSIVE MODE")
        held = asyncio.create_task(gate(log, session))
        await waiting(admin, "gate-busy", 1)
        beside = asyncio.create_task(gate(log, session))
        await waiting(admin, "pool-busy", 1)  # at the database on a pooled connection, not queued
        await admin.execute("ROLLBACK")
        await asyncio.wait_for(asyncio.gather(held, beside), timeout=10)
        assert await rows(pool, session) == 3
    finally:
        await admin.close()
        await log.aclose()
        await pool.close()


async def waiting(admin: asyncpg.Connection, app: str, n: int) -> None:
    """Until `n` backends of `app` wait on a lock (10 s at most)."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'"
    async with asyncio.timeout(10):
        while await admin.fetchval(sql, app) < n:  # noqa: ASYNC110 (the server's state, polled)
            await asyncio.sleep(0.01)


async def test_a_lost_gate_connection_fails_only_the_call_using_it(
    pg_dsn: str, pg_pool: asyncpg.Pool
) -> None:
    log = PostgresAuditLog(pool=pg_pool, agent_version="t", connect=connect_as(pg_dsn, "gate-lost"))
    session = f"s-{uuid.uuid4().hex}"
    try:
        await gate(log, session)
        killed = await pg_pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            "gate-lost",
        )
        assert killed == 1
        try:  # the loss is noticed either now (the call fails: the router withholds its result)
            await gate(log, session)
            written = 1
        except Exception:  # asyncpg raises several kinds here; the router withholds on any
            written = 0  # …or before it, when the closed socket was read: then it reconnected
        await gate(log, session)  # a new connection of its own
        assert await rows(pg_pool, session) == 2 + written
        assert await backends(pg_pool, "gate-lost") == 1
    finally:
        await log.aclose()


async def test_a_refused_gate_connection_leaves_the_work_to_the_pool(
    pg_dsn: str, pg_pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = 0
    server = urlsplit(pg_dsn)
    refusing = server._replace(netloc=f"no_such_role@{server.hostname}:{server.port}").geturl()

    async def refused() -> asyncpg.Connection:  # the server itself says no
        nonlocal attempts
        attempts += 1
        conn: asyncpg.Connection = await asyncpg.connect(refusing)
        return conn

    log = PostgresAuditLog(pool=pg_pool, agent_version="t", connect=refused)
    session = f"s-{uuid.uuid4().hex}"
    with caplog.at_level(logging.WARNING, logger="app.audit.log"):
        for _ in range(3):
            await gate(log, session)
    assert await rows(pg_pool, session) == 3
    assert attempts == 1  # not again before RETRY_S: no failed attempt in front of every call
    refusal = "InvalidAuthorizationSpecificationError"  # role "no_such_role" does not exist
    assert f"audit gate connection failed ({refusal}); using the pool" in caplog.text
    await log.aclose()


async def test_shutdown_closes_the_gate_connection(pg_dsn: str, pg_pool: asyncpg.Pool) -> None:
    log = PostgresAuditLog(pool=pg_pool, agent_version="t", connect=connect_as(pg_dsn, "gate-close"))
    session = f"s-{uuid.uuid4().hex}"
    await gate(log, session)
    assert await backends(pg_pool, "gate-close") == 1
    await log.aclose()
    for _ in range(100):  # the server ends the backend just after the client's Terminate
        if await backends(pg_pool, "gate-close") == 0:
            break
        await asyncio.sleep(0.02)
    assert await backends(pg_pool, "gate-close") == 0
    [entry] = [
        json.loads(r["tool_calls"])
        for r in await pg_pool.fetch("SELECT tool_calls FROM audit_events WHERE session_id = $1", session)
    ]
    assert entry == [{"tool": "t"}]


async def test_the_apps_stores_open_the_gate_connection_and_close_it_before_the_pool(
    pg_dsn: str, pg_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    stores = await open_stores(
        database_url=f"{pg_dsn}?application_name=gate-stores", redis_url=REDIS_URL, data_dir=tmp_path
    )
    log = PostgresAuditLog(pool=stores.pg, agent_version="t", connect=stores.pg_connect)
    stores.on_close(log.aclose)  # as aiops/bootstrap.py wires it
    session = f"s-{uuid.uuid4().hex}"
    async with stores.pg.acquire():  # the pool would open a second connection for the row
        await asyncio.wait_for(gate(log, session), timeout=10)
    assert stores.pg.get_size() == 1  # the row did not go through the pool
    assert await backends(pg_pool, "gate-stores") == 2  # the pool's one and the gate's own
    await asyncio.wait_for(stores.aclose(), timeout=10)  # would wait forever on a held pooled one
    async with asyncio.timeout(10):
        while await backends(pg_pool, "gate-stores"):  # noqa: ASYNC110 (the server's state, polled)
            await asyncio.sleep(0.02)
    assert await rows(pg_pool, session) == 1


async def test_shutdown_while_the_gate_connection_opens_leaves_no_connection(
    pg_dsn: str, pg_pool: asyncpg.Pool
) -> None:
    async def slow() -> asyncpg.Connection:
        await asyncio.sleep(0.3)
        conn: asyncpg.Connection = await connect_as(pg_dsn, "gate-slow")()
        return conn

    log = PostgresAuditLog(pool=pg_pool, agent_version="t", connect=slow)
    session = f"s-{uuid.uuid4().hex}"
    write = asyncio.create_task(gate(log, session))
    await asyncio.sleep(0.1)  # inside the connect
    await log.aclose()
    await asyncio.wait_for(write, timeout=10)  # written through the pool
    await gate(log, session)  # after shutdown: the pool, no new connection of its own
    await gone(pg_pool, "gate-slow")
    assert await rows(pg_pool, session) == 2


async def gone(pool: asyncpg.Pool, app: str) -> None:
    """Until no backend of `app` is left (10 s at most): the server ends one just after its client."""
    async with asyncio.timeout(10):
        while await backends(pool, app):  # noqa: ASYNC110 (the server's state, polled)
            await asyncio.sleep(0.02)


class SilentDrop:
    """A TCP relay to PostgreSQL whose open flows can be cut off without telling either end, as a
    NAT or firewall does to an idle flow; flows opened later pass."""

    def __init__(self) -> None:
        self.flows: list[dict[str, bool]] = []

    async def start(self, dsn: str) -> str:
        target = urlsplit(dsn)

        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_r, up_w = await asyncio.open_connection(target.hostname, target.port)
            flow = {"cut": False}
            self.flows.append(flow)

            async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                while data := await src.read(65536):
                    if not flow["cut"]:
                        dst.write(data)
                        await dst.drain()
                dst.close()

            await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer), return_exceptions=True)

        self.server = await asyncio.start_server(relay, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return dsn.replace(f":{target.port}/", f":{port}/")

    def cut(self) -> None:
        for flow in self.flows:
            flow["cut"] = True


async def test_a_silently_dropped_gate_connection_is_not_waited_on(
    pg_dsn: str, pg_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write on a dead flow fails after TIMEOUT_S (that call withholds its result) instead of
    waiting out TCP's retries; one after IDLE_S of quiet opens a new connection first."""
    monkeypatch.setattr(_Pinned, "TIMEOUT_S", 0.5)
    monkeypatch.setattr(_Pinned, "IDLE_S", 2.0)
    relay = SilentDrop()
    log = PostgresAuditLog(
        pool=pg_pool, agent_version="t", connect=connect_as(await relay.start(pg_dsn), "gate-cut")
    )
    session = f"s-{uuid.uuid4().hex}"
    try:
        await gate(log, session)
        relay.cut()
        async with asyncio.timeout(5) as ours:
            with pytest.raises(TimeoutError):  # the gate's own timeout…
                await gate(log, session)
        assert not ours.expired()  # …not this test's
        await gate(log, session)  # a new connection, on a new flow
        relay.cut()
        await asyncio.sleep(2.2)  # quiet for longer than IDLE_S
        await asyncio.wait_for(gate(log, session), timeout=5)  # no timeout: replaced before use
        assert await rows(pg_pool, session) >= 3
    finally:
        await log.aclose()
        relay.server.close()
