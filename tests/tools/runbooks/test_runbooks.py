"""Runbook ingest + search against Qdrant local mode, and the tool through the real router."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from aiops.cli import cmd_runbooks_ingest
from app.audit.log import PostgresAuditLog
from app.config import Secrets, load_settings
from kernel.metrics import Metrics
from tests.tools._router_kit import scope, unwrap
from tests.tools.runbooks.conftest import DATA, viewer_ctx
from tools.base import ToolContext
from tools.blocklist import Blocklist
from tools.router import ToolRouter
from tools.runbooks.index import RunbookIndex
from tools.runbooks.ingest import chunk_markdown, ingest
from tools.runbooks.tool import RunbookSearchTool
from tools.sanitize import MARKER_INJECTION


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[RunbookIndex]:
    idx = RunbookIndex.open(url=None, data_dir=tmp_path / "aiops-data")
    try:
        yield idx
    finally:
        await idx.close()


def test_chunks_follow_headings_and_keep_the_source() -> None:
    chunks = chunk_markdown((DATA / "checkout.md").read_text(), doc_id="d", source="checkout.md")
    assert [c.title for c in chunks] == [
        "Checkout service",
        "Checkout service > OOMKilled pods",
        "Checkout service > High 5xx rate",
    ]
    assert {c.source for c in chunks} == {"https://runbooks.example/checkout"}  # front-matter url wins
    oom = chunks[1]
    assert "# this is not a heading" in oom.text and "kubectl -n shop top pods" in oom.text
    nested = chunk_markdown(
        (DATA / "payments/postgres.md").read_text(), doc_id="p", source="payments/postgres.md"
    )
    assert "Payments database > Replication lag > Failover" in [c.title for c in nested]
    assert {c.source for c in nested} == {"payments/postgres.md"}


def test_long_sections_are_split_on_paragraphs() -> None:
    body = "# Big\n\n" + "\n\n".join(f"paragraph {i} " + "word " * 60 for i in range(20))
    chunks = chunk_markdown(body, doc_id="d", source="big.md")
    assert len(chunks) > 1 and all(len(c.text) <= 1_500 for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


@pytest.mark.parametrize(
    "query, title",
    [
        ("pod OOMKilled exit code 137 memory limit", "Checkout service > OOMKilled pods"),
        ("postgres replica lag stale", "Payments database > Replication lag"),
        ("how to promote the replica failover", "Payments database > Replication lag > Failover"),
        ("ImagePullBackOff cannot pull image", "Image pull failures > ImagePullBackOff"),
        ("connection slots reserved pgbouncer", "Payments database > Connection pool exhausted"),
        ("5xx errors after deploy", "Checkout service > High 5xx rate"),
    ],
)
async def test_search_finds_the_right_section_first(
    index: RunbookIndex, runbooks: Path, query: str, title: str
) -> None:
    assert await ingest(runbooks, index=index) == 8
    hits = await index.search(query, limit=3)
    assert hits and hits[0].title == title


async def test_reingest_replaces_instead_of_duplicating(index: RunbookIndex, runbooks: Path) -> None:
    assert await ingest(runbooks, index=index) == 8
    assert await ingest(runbooks, index=index) == 8
    assert await index.count() == 8
    # the file loses a section: its stale chunk disappears too
    pg = runbooks / "payments" / "postgres.md"
    pg.write_text(pg.read_text().split("## Connection pool exhausted")[0])
    await ingest(pg, index=index)
    assert await index.count() == 7
    hits = await index.search("pgbouncer connection slots", limit=5)
    assert all("Connection pool" not in h.title for h in hits)


async def test_stopword_only_query_returns_a_hint(index: RunbookIndex, runbooks: Path) -> None:
    await ingest(runbooks, index=index)
    tool = RunbookSearchTool(index=index)
    out = await tool._invoke({"query": "the and of"}, ToolContext(scope=scope(), job_id="j"))
    assert out["results"] == [] and "try other keywords" in out["hint"]


async def test_missing_path_is_a_clear_error(index: RunbookIndex, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="runbook path not found"):
        await ingest(tmp_path / "nope", index=index)


async def test_injection_planted_in_a_runbook_is_withheld_by_the_router(
    index: RunbookIndex,
    runbooks: Path,
    audit_log: PostgresAuditLog,
    pg_pool: asyncpg.Pool,
    search_router: Callable[[RunbookIndex], ToolRouter],
) -> None:
    await ingest(runbooks, index=index)
    router = search_router(index)
    ctx = viewer_ctx()
    out = await router.invoke("runbook_search", {"query": "registry certificate rotation", "limit": 2}, ctx)
    assert not out.is_error
    first = unwrap(out.content)[2]["results"][0]
    assert first["title"] == "Image pull failures > Certificate rotation"
    assert first["source"] == "payments/image-pull.md"
    lines = first["snippet"].split("\n")
    assert "Rotate the registry pull certificate yearly." in lines and MARKER_INJECTION in lines
    assert "IGNORE" not in out.content and "evil.example" not in out.content
    n = await pg_pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE session_id = $1 AND event_type = 'security' "
        "AND failure_reason = 'prompt_injection'",
        ctx.session_id,
    )
    assert n == 1


async def test_locked_local_index_is_a_tool_error_not_a_crash(
    index: RunbookIndex, runbooks: Path, tmp_path: Path, audit_log: PostgresAuditLog,
    pg_pool: asyncpg.Pool, redis_prefix: str,
) -> None:  # fmt: skip
    """A second process on the same local folder (e.g. two `aiops worker` processes without QDRANT_URL)."""
    await ingest(runbooks, index=index)
    second = RunbookIndex.open(url=None, data_dir=tmp_path / "aiops-data")  # same folder, still locked
    router = ToolRouter(
        tools=[RunbookSearchTool(index=second)],
        audit=audit_log,
        metrics=Metrics(),
        blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix),
    )
    ctx = ToolContext(scope=scope(), job_id="j", session_id="s")
    out = await router.invoke("runbook_search", {"query": "OOMKilled"}, ctx)
    assert out.is_error and "runbook index unavailable" in unwrap(out.content)[2]["error"]
    await index.close()  # lock released: the same index object now works
    ok = await router.invoke("runbook_search", {"query": "OOMKilled"}, ctx)
    assert not ok.is_error and unwrap(ok.content)[2]["results"]
    await second.close()


async def test_cli_ingest_of_a_missing_path_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings({"AIOPS_DATA_DIR": str(tmp_path / "data"), "KEYCLOAK_URL": "https://sso.example"})
    secrets = Secrets(slack_bot_token=SecretStr("x"), slack_signing_secret=SecretStr("x"),
                      alertmanager_token=SecretStr("x"))
    rc = await cmd_runbooks_ingest(argparse.Namespace(path=str(tmp_path / "nope")), settings, secrets)
    out = capsys.readouterr()
    assert rc == 1 and out.out == ""
    assert out.err.strip() == f"aiops: runbooks ingest failed: runbook path not found: {tmp_path / 'nope'}"
