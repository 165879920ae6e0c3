from __future__ import annotations

import uuid
from collections.abc import Callable

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog
from kernel.metrics import Metrics
from kernel.scope import EffectiveScope
from tests.fixtures.kubernetes import SimCluster, k8s_cluster  # noqa: F401
from tools.analyzers.tool import AnalyzeTool
from tools.base import ToolContext
from tools.blocklist import Blocklist
from tools.kubernetes.tools import kubernetes_tools
from tools.router import ToolRouter

RouterFactory = Callable[[SimCluster], ToolRouter]


def ctx_for(scope: EffectiveScope) -> ToolContext:
    return ToolContext(scope=scope, job_id=f"job-{uuid.uuid4().hex[:8]}", session_id=f"s-{uuid.uuid4().hex}")


@pytest.fixture
def make_router(
    audit_log: PostgresAuditLog, pg_pool: asyncpg.Pool, redis_prefix: str
) -> RouterFactory:
    """The real router over the four k8s tools + analyze, pointed at one simulated cluster."""

    def build(cluster: SimCluster) -> ToolRouter:
        return ToolRouter(
            tools=[*kubernetes_tools(client=cluster.client), AnalyzeTool(client=cluster.client)],
            audit=audit_log,
            metrics=Metrics(),
            blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix, ttl_s=60),
        )

    return build
