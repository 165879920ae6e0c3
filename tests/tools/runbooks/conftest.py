"""Shared by the runbook tests: the planted runbook folder and the real ToolRouter around a
`RunbookSearchTool` (Postgres audit, Redis blocklist), with a viewer context in `shop`."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog
from kernel.metrics import Metrics
from tests.tools._router_kit import scope
from tools.base import ToolContext
from tools.blocklist import Blocklist
from tools.router import ToolRouter
from tools.runbooks.index import RunbookIndex
from tools.runbooks.tool import RunbookSearchTool

DATA = Path(__file__).parent / "data"


@pytest.fixture
def runbooks(tmp_path: Path) -> Path:
    dst = tmp_path / "runbooks"
    shutil.copytree(DATA, dst)
    return dst


@pytest.fixture
def search_router(
    audit_log: PostgresAuditLog, pg_pool: asyncpg.Pool, redis_prefix: str
) -> Callable[[RunbookIndex], ToolRouter]:
    def make(index: RunbookIndex) -> ToolRouter:
        return ToolRouter(
            tools=[RunbookSearchTool(index=index)],
            audit=audit_log,
            metrics=Metrics(),
            blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix),
        )

    return make


def viewer_ctx() -> ToolContext:
    return ToolContext(scope=scope({"viewer"}, {"shop"}), job_id="j", session_id=f"s-{uuid.uuid4().hex}")
