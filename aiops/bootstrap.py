"""The one composition root: Settings + Secrets in, a wired `Runtime` out.

Everything that talks to the outside world is built here, once, and handed down through
keyword-only constructors: Redis/Postgres (embedded when no URL), the Slack client (with
429/5xx retry handlers), the audit log, the queue, sessions, identity, the agent.
Tests build the same Runtime against simulators, so what they exercise is what runs.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from aiops.http import build_web_app
from app.agent.base import Agent
from app.agent.model import ModelClient
from app.alert_guard import AlertGuard
from app.audit.log import PostgresAuditLog
from app.audit.migrate import migrate
from app.audit.slash import COMMAND as AUDIT_COMMAND
from app.audit.slash import AuditCommand
from app.audit.status import AuditStatus
from app.commands import WithCommands
from app.config import Secrets, Settings, pg_password
from app.memory.notes import NoteStore
from app.queue import DEFAULT_CLAIM_IDLE_MS, JobQueue, RedisJobStateStore
from app.schedules.runner import Scheduler
from app.schedules.store import ScheduleStore
from app.schema_check import check_schema
from app.sessions import SessionStore
from app.stores import Stores, open_stores
from app.thread_intake import ThreadIntake, alert_thread_lookup
from app.worker import IdentityResolver, Worker
from handlers.alerts import AlertmanagerEndpoint
from handlers.health import HealthEndpoints
from handlers.slack import ActionHandler, RejectionRecorder, SlackEndpoint, build_bolt_app
from kernel.metrics import Metrics
from tools.base import Tool
from tools.blocklist import Blocklist
from tools.registry import build_tools
from tools.router import ToolRouter

if TYPE_CHECKING:
    from tools.runbooks.embeddings import EmbeddingsClient

log = logging.getLogger(__name__)

IN_CLUSTER_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def build_slack_client(settings: Settings, secrets: Secrets) -> AsyncWebClient:
    """Slack Web API client that honours 429 Retry-After and retries 5xx/connection errors."""
    return AsyncWebClient(
        token=secrets.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=3),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_identity(
    settings: Settings,
    secrets: Secrets,
    *,
    audit: PostgresAuditLog,
    metrics: Metrics,
    stores: Stores,
    slack: AsyncWebClient,
) -> IdentityResolver:
    from app.identity.factory import build_identity_service

    return build_identity_service(
        settings,
        secrets,
        audit=audit,
        metrics=metrics,
        pool=stores.pg,
        slack=slack,
        alert_thread=alert_thread_lookup(stores.redis, settings.redis_prefix),
    )


def feedback_recorder(pool: asyncpg.Pool) -> ActionHandler:
    """Feedback buttons under answers → one `feedback` row per click."""
    from app.slack.feedback import parse_feedback, record_feedback

    async def on_action(body: dict[str, Any]) -> None:
        click = parse_feedback(body)
        if click is not None:
            await record_feedback(pool=pool, click=click)

    return on_action


def build_embedder(settings: Settings, secrets: Secrets) -> EmbeddingsClient | None:
    """Dense runbook vectors only when AIOPS_EMBEDDINGS_URL is set; the key is optional (local
    OpenAI-compatible servers often run without one)."""
    from tools.runbooks.embeddings import EmbeddingsClient

    if not settings.embeddings_url:
        return None
    return EmbeddingsClient(
        url=settings.embeddings_url, model=settings.embeddings_model, api_key=secrets.embeddings_api_key
    )


def build_tools_for(settings: Settings, secrets: Secrets) -> list[Tool]:
    """Configured data sources contribute their tools; runbooks always (Qdrant local mode
    under AIOPS_DATA_DIR when QDRANT_URL is not set; connected lazily, on first search)."""
    from tools.kubernetes.client import KubernetesClient
    from tools.prometheus.client import PrometheusClient
    from tools.runbooks.index import RunbookIndex

    prometheus = PrometheusClient(url=settings.prometheus_url) if settings.prometheus_url else None
    kubernetes = None
    if settings.kubeconfig:
        kubernetes = KubernetesClient(kubeconfig=str(settings.kubeconfig))
    elif IN_CLUSTER_TOKEN.exists():  # running in a pod: the service account's read-only RBAC
        kubernetes = KubernetesClient(kubeconfig=None)
    runbooks = RunbookIndex.open(
        url=settings.qdrant_url, data_dir=settings.data_dir, embedder=build_embedder(settings, secrets)
    )
    return build_tools(prometheus=prometheus, kubernetes=kubernetes, runbooks=runbooks)


def build_model_client(settings: Settings, secrets: Secrets) -> ModelClient | None:
    """The configured LLM provider, or None without its key: offline mode, which says so."""
    if settings.llm_provider == "openai":
        if secrets.openai_api_key is None:
            return None
        from openai import AsyncOpenAI

        from app.agent.openai_model import OpenAIModel

        return OpenAIModel(AsyncOpenAI(
            api_key=secrets.openai_api_key.get_secret_value(), base_url=settings.openai_base_url
        ))
    if secrets.anthropic_api_key is None:
        return None
    from anthropic import AsyncAnthropic

    from app.agent.model import AnthropicModel

    return AnthropicModel(AsyncAnthropic(
        api_key=secrets.anthropic_api_key.get_secret_value(), base_url=settings.anthropic_base_url
    ))


def build_agent(
    settings: Settings,
    secrets: Secrets,
    *,
    stores: Stores,
    audit: PostgresAuditLog,
    metrics: Metrics,
    tools: Sequence[Tool],
) -> Agent:
    from app.agent.claude import ClaudeAgent

    router = ToolRouter(
        tools=tools,
        audit=audit,
        metrics=metrics,
        blocklist=Blocklist(redis=stores.redis, prefix=settings.redis_prefix),
    )
    return ClaudeAgent(
        provider=build_model_client(settings, secrets),
        model=settings.model,
        router=router,
        audit=audit,
        metrics=metrics,
        redis=stores.redis,
        redis_prefix=settings.redis_prefix,
        daily_token_budget=settings.daily_token_budget,
        notes=NoteStore(pool=stores.pg),
    )


@dataclass
class Runtime:
    settings: Settings
    secrets: Secrets
    stores: Stores
    metrics: Metrics
    audit: PostgresAuditLog
    queue: JobQueue
    states: RedisJobStateStore
    sessions: SessionStore
    slack: AsyncWebClient
    identity: IdentityResolver
    agent: Agent
    _consumers: int = field(default=0)
    _bolt: AsyncApp | None = field(default=None)

    @property
    def bolt(self) -> AsyncApp:
        """The Bolt app (shared by HTTP and Socket Mode)."""
        if self._bolt is None:
            self._bolt = build_bolt_app(
                client=self.slack,
                signing_secret=self.secrets.slack_signing_secret.get_secret_value(),
                queue=self.queue,
                metrics=self.metrics,
                on_action=feedback_recorder(self.stores.pg),
                intake=ThreadIntake(redis=self.stores.redis, prefix=self.settings.redis_prefix),
            )
        return self._bolt

    def web_app(self) -> web.Application:
        rejections = RejectionRecorder(audit=self.audit, metrics=self.metrics)
        bolt = self.bolt
        return build_web_app(
            slack=SlackEndpoint(
                bolt=bolt,
                signing_secret=self.secrets.slack_signing_secret.get_secret_value(),
                rejections=rejections,
            ),
            alerts=AlertmanagerEndpoint(
                token=self.secrets.alertmanager_token.get_secret_value(),
                queue=self.queue,
                metrics=self.metrics,
                rejections=rejections,
                incident_channel=self.settings.incident_channel,
                guard=AlertGuard(
                    audit=self.audit,
                    blocklist=Blocklist(redis=self.stores.redis, prefix=self.settings.redis_prefix),
                    metrics=self.metrics,
                    alertmanager_url=self.settings.alertmanager_external_url,
                    prometheus_url=self.settings.prometheus_external_url,
                ),
            ),
            health=self.receiver_health(),
        )

    def receiver_health(self) -> HealthEndpoints:
        """Acking needs Redis only: a PostgreSQL outage must not take the receiver out of service."""
        return HealthEndpoints(checks={"redis": self.stores.ping_redis}, metrics=self.metrics)

    def worker_health(self) -> HealthEndpoints:
        """A worker needs both stores and the schema this build expects (`aiops migrate` done)."""
        return HealthEndpoints(
            checks={
                "redis": self.stores.ping_redis,
                "postgres": self.stores.ping_postgres,
                "schema": self.check_schema,
            },
            metrics=self.metrics,
            # the nightly audit Jobs' outcome (stored in the database), exported by the workers
            refresh=AuditStatus(pool=self.stores.pg, metrics=self.metrics).refresh,
        )

    async def check_schema(self) -> None:
        await check_schema(self.stores.pg)

    def worker(
        self,
        *,
        concurrency: int = 4,
        claim_idle_ms: int = DEFAULT_CLAIM_IDLE_MS,
        max_deliveries: int = 3,
    ) -> Worker:
        self._consumers += 1
        return Worker(
            queue=self.queue,
            states=self.states,
            sessions=self.sessions,
            identity=WithCommands(  # more private slash commands (the jobs' hook too)
                self.identity, {AUDIT_COMMAND: AuditCommand(pool=self.stores.pg, identity=self.identity)}
            ),
            agent=self.agent,
            slack=self.slack,
            audit=self.audit,
            metrics=self.metrics,
            redis=self.stores.redis,
            prefix=self.settings.redis_prefix,
            consumer=f"{socket.gethostname()}-{os.getpid()}-{self._consumers}",
            concurrency=concurrency,
            claim_idle_ms=claim_idle_ms,
            max_deliveries=max_deliveries,
            scheduler=Scheduler(store=ScheduleStore(pool=self.stores.pg), queue=self.queue),
            store_probe=self.stores.ping_postgres,
            ready_check=self.check_schema,
        )

    async def aclose(self) -> None:
        closer = getattr(self.identity, "aclose", None)
        if closer is not None:
            await closer()
        await self.stores.aclose()


async def build_runtime(
    settings: Settings,
    secrets: Secrets,
    *,
    agent: Agent | None = None,
    identity: IdentityResolver | None = None,
    slack: AsyncWebClient | None = None,
    metrics: Metrics | None = None,
    tools: Sequence[Tool] | None = None,
) -> Runtime:
    """Connect everything. Overrides exist for the demo/tests (simulated Slack workspace)."""
    stores = await open_stores(
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        data_dir=settings.data_dir,
        pg_password=pg_password(secrets),
    )
    try:
        if "postgres" in stores.embedded:  # our own embedded database: keep it migrated
            async with stores.pg.acquire() as conn:
                await migrate(conn)
        metrics = metrics or Metrics()
        audit = PostgresAuditLog(pool=stores.pg, agent_version=settings.agent_version)
        prefix = settings.redis_prefix
        slack = slack or build_slack_client(settings, secrets)
        return Runtime(
            settings=settings,
            secrets=secrets,
            stores=stores,
            metrics=metrics,
            audit=audit,
            queue=JobQueue(redis=stores.redis, prefix=prefix),
            states=RedisJobStateStore(redis=stores.redis, prefix=prefix),
            sessions=SessionStore(redis=stores.redis, pool=stores.pg, prefix=prefix),
            slack=slack,
            identity=identity
            or build_identity(
                settings, secrets, audit=audit, metrics=metrics, stores=stores, slack=slack
            ),
            agent=agent
            or build_agent(
                settings,
                secrets,
                stores=stores,
                audit=audit,
                metrics=metrics,
                tools=build_tools_for(settings, secrets) if tools is None else tools,
            ),
        )
    except BaseException:
        await stores.aclose()
        raise
