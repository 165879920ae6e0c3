"""Every payload of the shared corpus, planted in every place tool data can carry text, is
withheld before the model sees it and flagged with exactly one `security` row per call
(real Postgres); ordinary log lines pass untouched. The detection and false-positive rates are
measured and printed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog
from kernel.metrics import Metrics
from tests.fixtures.injections import (
    ALL_PAYLOADS,
    BENIGN,
    EVASIONS,
    LABEL_VALUE_PAYLOADS,
    NAME_PAYLOADS,
    PAYLOADS,
)
from tests.fixtures.ordinary_logs import ordinary_log_lines
from tests.tools._router_kit import ListTool, scope, unwrap
from tools.base import ToolContext
from tools.blocklist import Blocklist
from tools.router import ToolRouter
from tools.sanitize import MARKER_INJECTION, find_injection


def _strings(obj: Any) -> list[str]:
    """Every key and string value of a decoded result."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in [k, *_strings(v)]]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def _item(**extra: Any) -> dict[str, Any]:
    return {"name": "checkout-1", "namespace": "shop", **extra}


PLACES: dict[str, Callable[[str], dict[str, Any]]] = {
    "label_value": lambda p: {"items": [_item(labels={"pod": p, "job": "checkout"})]},
    "label_name": lambda p: {"items": [_item(labels={p: "x"})]},
    "resource_name": lambda p: {"items": [_item(name=p)]},
    "annotation": lambda p: {"items": [_item(annotations={"note": p})]},
    "event_message": lambda p: {"items": [_item(events=[{"reason": "BackOff", "message": p}])]},
    "log_line": lambda p: {"items": [_item(log=f"INFO start\n{p}\nINFO done")]},
    "top_level_note": lambda p: {"items": [], "note": p},
}


@pytest.fixture
async def router(audit_log: PostgresAuditLog, pg_pool: asyncpg.Pool, redis_prefix: str) -> ToolRouter:
    tool = ListTool()
    return ToolRouter(
        tools=[tool],
        audit=audit_log,
        metrics=Metrics(),
        blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix),
    )


def test_corpus_is_big_enough() -> None:
    assert len(PAYLOADS) >= 50 and len(EVASIONS) >= 50 and len(set(ALL_PAYLOADS)) == len(ALL_PAYLOADS)
    assert len(ordinary_log_lines()) >= 1_000
    assert all(len(n) <= 253 and n == n.lower() for n in NAME_PAYLOADS)
    assert all(len(v) <= 63 for v in LABEL_VALUE_PAYLOADS)


@pytest.mark.parametrize("place", list(PLACES))
async def test_every_payload_is_withheld_and_flagged(
    router: ToolRouter, pg_pool: asyncpg.Pool, place: str
) -> None:
    tool = router._tools["fake_list"].tool
    assert isinstance(tool, ListTool)
    missed: list[str] = []
    sessions: list[str] = []
    for payload in ALL_PAYLOADS:
        tool.output = PLACES[place](payload)
        ctx = ToolContext(scope=scope(), job_id="j", session_id=f"s-{uuid.uuid4().hex}")
        sessions.append(ctx.session_id or "")
        out = await router.invoke("fake_list", {"namespace": "shop"}, ctx)
        _, _, body = unwrap(out.content)
        strings = _strings(body)
        if any(payload.strip() in s for s in strings) or not any(MARKER_INJECTION in s for s in strings):
            missed.append(payload)
    assert missed == []
    counts = await pg_pool.fetch(
        "SELECT session_id, count(*) AS n, min(failure_reason) AS reason, min(namespace) AS ns "
        "FROM audit_events WHERE event_type = 'security' AND session_id = ANY($1) GROUP BY session_id",
        sessions,
    )
    assert len(counts) == len(ALL_PAYLOADS)
    assert {(r["n"], r["reason"], r["ns"]) for r in counts} == {(1, "prompt_injection", "shop")}
    # the security rows never carry the content
    rows = await pg_pool.fetch("SELECT * FROM audit_events WHERE session_id = ANY($1)", sessions)
    dumped = " ".join(str(dict(r)) for r in rows)
    assert not [p for p in PAYLOADS if len(p) > 12 and p in dumped]


async def test_benign_operational_text_is_passed_through(router: ToolRouter, pg_pool: asyncpg.Pool) -> None:
    tool = router._tools["fake_list"].tool
    assert isinstance(tool, ListTool)
    tool.output = {
        "items": [_item(annotations={f"a{i}": b for i, b in enumerate(BENIGN)}, log="\n".join(BENIGN))]
    }
    ctx = ToolContext(scope=scope(), job_id="j", session_id=f"s-{uuid.uuid4().hex}")
    out = await router.invoke("fake_list", {"namespace": "shop"}, ctx)
    item = unwrap(out.content)[2]["items"][0]
    assert list(item["annotations"].values()) == BENIGN
    assert item["log"].split("\n") == BENIGN
    assert (
        await pg_pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE session_id = $1 AND event_type = 'security'",
            ctx.session_id,
        )
        == 0
    )


def test_detection_and_false_positive_rates(capsys: pytest.CaptureFixture[str]) -> None:
    detected = [p for p in ALL_PAYLOADS if find_injection(p)]
    lines = ordinary_log_lines()
    flagged = [(find_injection(line), line) for line in lines if find_injection(line)]
    rate, fp_rate = len(detected) / len(ALL_PAYLOADS), len(flagged) / len(lines)
    with capsys.disabled():
        print(
            f"\ninjection detection: {len(detected)}/{len(ALL_PAYLOADS)} = {rate:.1%} "
            f"(evasions {sum(bool(find_injection(p)) for p in EVASIONS)}/{len(EVASIONS)}); "
            f"false positives: {len(flagged)}/{len(lines)} ordinary log lines = {fp_rate:.2%}"
        )
    assert rate >= 0.95, [p for p in ALL_PAYLOADS if p not in detected]
    assert fp_rate <= 0.005, flagged


async def test_ordinary_logs_pass_the_router_untouched(router: ToolRouter, pg_pool: asyncpg.Pool) -> None:
    """As pods' log tails (10 lines per item, re-checked joined), 200 lines per call: at most 0.5 %
    withheld, and a security row only for a call that withheld something."""
    tool = router._tools["fake_list"].tool
    assert isinstance(tool, ListTool)
    lines = ordinary_log_lines()
    withheld = 0
    for start in range(0, len(lines), 200):
        part = lines[start : start + 200]
        chunks = ["\n".join(part[i : i + 10]) for i in range(0, len(part), 10)]
        tool.output = {"items": [_item(name=f"p-{i}", log=chunk) for i, chunk in enumerate(chunks)]}
        ctx = ToolContext(scope=scope(), job_id="j", session_id=f"s-{uuid.uuid4().hex}")
        out = await router.invoke("fake_list", {"namespace": "shop"}, ctx)
        assert not out.is_error, out.content[:300]
        logs = [line for item in unwrap(out.content)[2]["items"] for line in item["log"].split("\n")]
        hidden = sum(line == MARKER_INJECTION for line in logs)
        withheld += hidden
        rows = await pg_pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE session_id = $1 AND event_type = 'security'",
            ctx.session_id,
        )
        assert rows == (1 if hidden else 0)
    assert withheld <= len(lines) * 0.005
