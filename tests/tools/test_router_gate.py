"""The audit gate: a tool result is recorded, and released to the model, only if none of its
values was blocked when the statement writing its audit row began — whichever worker blocked it,
and however late.
Real PostgreSQL; "another worker" is a second `Blocklist` on the same table, as in production."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.audit.log import PostgresAuditLog
from kernel.audit import AuditEvent, sha256_hex
from kernel.metrics import Metrics
from tests.tools._router_kit import ListTool, scope, unwrap
from tools.base import JSON, ToolContext
from tools.blocklist import Blocklist, digest
from tools.router import ToolRouter

NAMES = [f"checkout-{i}" for i in range(8)]


def ctx() -> ToolContext:
    return ToolContext(scope=scope(), job_id="job-1", session_id=f"s-{uuid.uuid4().hex}")


def router_on(pool: asyncpg.Pool, prefix: str, tool: ListTool, audit: Any = None) -> ToolRouter:
    audit = audit or PostgresAuditLog(pool=pool, agent_version="test")
    return ToolRouter(
        tools=[tool], audit=audit, metrics=Metrics(), blocklist=Blocklist(pool=pool, prefix=prefix)
    )


def items(names: list[str]) -> JSON:
    return {"items": [{"name": n, "namespace": "shop"} for n in names]}


async def tool_rows(pool: asyncpg.Pool, session_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT tool_calls FROM audit_events WHERE session_id = $1 AND event_type = 'tool_call'", session_id
    )
    return [json.loads(r["tool_calls"])[0] for r in rows]


async def test_a_block_by_another_worker_is_honoured_without_asking_first(
    pg_pool: asyncpg.Pool, redis_prefix: str
) -> None:
    tool = ListTool(items(["checkout-1", "checkout-2"]))
    router = router_on(pg_pool, redis_prefix, tool)
    await Blocklist(pool=pg_pool, prefix=redis_prefix).block(["checkout-2"])  # another worker
    c = ctx()
    out = await router.invoke("fake_list", {"namespace": "shop"}, c)
    body = unwrap(out.content)[2]
    assert [i["name"] for i in body["items"]] == ["checkout-1"]
    assert "1 item(s) with a label blocked" in body["_withheld"]
    [entry] = await tool_rows(pg_pool, c.session_id or "")  # one row, for what was released
    assert entry == out.audit and entry["result_hash"] == sha256_hex(out.content)
    assert router._blocklist.known() == {digest("checkout-2")}  # learnt from the gate's answer


async def test_a_block_committed_while_the_tool_runs_is_honoured(
    pg_pool: asyncpg.Pool, redis_prefix: str
) -> None:
    """Blocked after the call started, before its row: the result still does not carry it (a
    read of the blocklist when the call starts, as before, would have let it through)."""
    tool = ListTool()
    other = Blocklist(pool=pg_pool, prefix=redis_prefix)

    async def blocks_meanwhile(args: JSON, c: ToolContext) -> JSON:
        await other.block(["checkout-3"])
        return items(["checkout-1", "checkout-3"])

    tool.behaviour = blocks_meanwhile
    out = await router_on(pg_pool, redis_prefix, tool).invoke("fake_list", {"namespace": "shop"}, ctx())
    assert "checkout-3" not in out.content and "checkout-1" in out.content


class BlocksBeforeEachWrite(PostgresAuditLog):
    """A real audit log with a second worker that blocks one more value of the result just
    before each gated write: the race, made to happen every time."""

    def __init__(self, pool: asyncpg.Pool, other: Blocklist, victims: list[str]) -> None:
        super().__init__(pool=pool, agent_version="test")
        self._other, self._victims = other, list(victims)

    async def write_unless_blocked(self, event: AuditEvent, **kw: Any) -> list[asyncpg.Record] | None:
        if self._victims:
            await self._other.block([self._victims.pop(0)])
        return await super().write_unless_blocked(event, **kw)


async def test_each_late_block_is_honoured_and_a_churning_blocklist_withholds_the_result(
    pg_pool: asyncpg.Pool, redis_prefix: str
) -> None:
    other = Blocklist(pool=pg_pool, prefix=redis_prefix)
    tool = ListTool(items(NAMES[:4]))
    two = router_on(pg_pool, redis_prefix, tool, BlocksBeforeEachWrite(pg_pool, other, NAMES[:2]))
    c = ctx()
    out = await two.invoke("fake_list", {"namespace": "shop"}, c)
    assert [i["name"] for i in unwrap(out.content)[2]["items"]] == NAMES[2:4]
    assert [e["result_hash"] for e in await tool_rows(pg_pool, c.session_id or "")] == [
        sha256_hex(out.content)
    ]

    churn = router_on(pg_pool, redis_prefix + "-churn", tool, None)
    churn._audit = BlocksBeforeEachWrite(
        pg_pool, Blocklist(pool=pg_pool, prefix=redis_prefix + "-churn"), NAMES
    )
    c = ctx()
    out = await churn.invoke("fake_list", {"namespace": "shop"}, c)
    assert out.is_error and "try again" in out.content and not any(n in out.content for n in NAMES)
    [entry] = await tool_rows(pg_pool, c.session_id or "")  # the refusal is on record
    assert entry["result_hash"] == sha256_hex(out.content)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=8, unique=True),
    known_first=st.sets(st.sampled_from(NAMES)),
    late=st.sets(st.sampled_from(NAMES)),
)
async def test_no_released_result_carries_a_value_blocked_before_its_row(
    pg_pool: asyncpg.Pool, names: list[str], known_first: set[str], late: set[str]
) -> None:
    """Whatever this worker already knew and whatever another worker blocked after it looked:
    every released value was unblocked when the row was written, and the row hashes what left."""
    prefix = f"gate-{uuid.uuid4().hex[:8]}"
    tool = ListTool(items(names))
    router = router_on(pg_pool, prefix, tool)
    await router._blocklist.block(known_first)
    await Blocklist(pool=pg_pool, prefix=prefix).block(late)
    c = ctx()
    out = await router.invoke("fake_list", {"namespace": "shop"}, c)
    released = [i["name"] for i in unwrap(out.content)[2]["items"]]
    assert released == [n for n in names if n not in known_first | late]
    [entry] = await tool_rows(pg_pool, c.session_id or "")
    assert entry["result_hash"] == sha256_hex(out.content)


async def test_a_retry_that_fails_unexpectedly_fails_closed(pg_pool: asyncpg.Pool, redis_prefix: str) -> None:
    """The retry after the gate reports a block goes the full path (copying filter, then
    sanitizer); whatever goes wrong there, invoke answers with an error, never raises."""

    class FailsOnRetry(ToolRouter):  # a fault on the retry path only: the first pass is clean
        async def _clean(self, *args: Any, again: bool = False, **kw: Any) -> Any:
            if again:
                raise RuntimeError("unexpected")
            return await super()._clean(*args, again=again, **kw)

    tool = ListTool(items(["checkout-1", "checkout-2"]))
    router = FailsOnRetry(
        tools=[tool],
        audit=PostgresAuditLog(pool=pg_pool, agent_version="test"),
        metrics=Metrics(),
        blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix),
    )
    await Blocklist(pool=pg_pool, prefix=redis_prefix).block(["checkout-2"])  # another worker
    c = ctx()
    out = await router.invoke("fake_list", {"namespace": "shop"}, c)
    assert out.is_error and "failed internally" in out.content and "checkout" not in out.content
    [entry] = await tool_rows(pg_pool, c.session_id or "")
    assert entry["result_hash"] == sha256_hex(out.content)


async def test_a_deeply_nested_result_never_makes_the_retry_raise(
    pg_pool: asyncpg.Pool, redis_prefix: str
) -> None:
    """700 levels: the one-pass walk takes it; the full path of the retry may run out of stack
    (the Python source does, the compiled build does not). Either way: an answer, no blocked value."""
    deep: Any = "x"
    for _ in range(700):
        deep = {"a": deep}
    tool = ListTool(
        {"items": [*items(["checkout-2"])["items"], {"name": "ok", "namespace": "shop", "deep": deep}]}
    )
    await Blocklist(pool=pg_pool, prefix=redis_prefix).block(["checkout-2"])  # another worker
    c = ctx()
    out = await router_on(pg_pool, redis_prefix, tool).invoke("fake_list", {"namespace": "shop"}, c)
    assert "checkout-2" not in out.content
    [entry] = await tool_rows(pg_pool, c.session_id or "")
    assert entry["result_hash"] == sha256_hex(out.content)
