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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from aiops.changes_wiring import worker_background
from aiops.http import build_metrics_app, build_web_app
from aiops.incidents import build_incident_memory, incident_commands, incident_recorder, with_incident_memory
from aiops.llm import build_model_client
from aiops.sources import build_tools_for
from aiops.tls import client_ssl_context
from app.agent.base import Agent
from app.agent.pause import RedisPauseSwitch
from app.alert_guard import AlertGuard
from app.audit.log import PostgresAuditLog
from app.audit.migrate import migrate
from app.audit.slash import COMMAND as AUDIT_COMMAND
from app.audit.slash import AuditCommand
from app.audit.status import AuditStatus
from app.commands import Command, WithCommands
from app.config import Secrets, Settings
from app.incidents.memory import IncidentMemory
from app.logctx import JobLoggingWorker
from app.memory.commands import MEMORY, REMEMBER, MemoryCommands
from app.memory.notes import NoteStore
from app.observability import MeteredWebClient, RateLimitCounter, set_build_info
from app.pause_commands import PauseAwareIdentity, PauseCommands
from app.queue import DEFAULT_CLAIM_IDLE_MS, JobQueue, RedisJobStateStore
from app.schedules.commands import COMMAND as JOBS_COMMAND
from app.schedules.commands import JobsCommand
from app.schema_check import check_schema
from app.secrets_watch import SecretsWatcher
from app.sessions import SessionStore
from app.slack.neutralize import hosts_of
from app.slack.posts import SlackPosts
from app.slack.workspace import SlackWorkspace
from app.store_auth import StoreCredentials
from app.stores import Stores, open_stores
from app.thread_intake import ThreadIntake, alert_thread_lookup
from app.worker import IdentityResolver, Worker
from handlers.alerts import AlertmanagerEndpoint
from handlers.fast_ack import EventIntake, FastAck
from handlers.health import HealthEndpoints
from handlers.slack import ActionHandler, RejectionRecorder, SlackEndpoint, build_bolt_app
from kernel.metrics import Metrics
from tools.base import Tool
from tools.blocklist import Blocklist
from tools.router import ToolRouter

log = logging.getLogger(__name__)


def build_slack_client(
    settings: Settings, secrets: Secrets, metrics: Metrics | None = None
) -> AsyncWebClient:
    """Slack Web API client that honours 429 Retry-After and retries 5xx/connection errors;
    errors and 429s are counted, TLS verified against AIOPS_CA_BUNDLE when set."""
    return MeteredWebClient(
        metrics=metrics or Metrics(),
        token=secrets.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        ssl=client_ssl_context(settings.ca_bundle),
        retry_handlers=[
            RateLimitCounter(metrics or Metrics()),
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
        redis=stores.redis,  # device logins in flight: any worker finishes them
    )


def feedback_recorder(pool: asyncpg.Pool) -> ActionHandler:
    """Feedback buttons under answers → one `feedback` row per click."""
    from app.slack.feedback import parse_feedback, record_feedback

    async def on_action(body: dict[str, Any]) -> None:
        click = parse_feedback(body)
        if click is not None:
            await record_feedback(pool=pool, click=click)

    return on_action


def build_agent(
    settings: Settings,
    secrets: Secrets,
    *,
    stores: Stores,
    audit: PostgresAuditLog,
    metrics: Metrics,
    tools: Sequence[Tool],
    watcher: SecretsWatcher | None = None,
) -> Agent:
    from app.agent.claude import ClaudeAgent

    router = ToolRouter(
        tools=tools,
        audit=audit,
        metrics=metrics,
        blocklist=Blocklist(pool=stores.pg, prefix=settings.redis_prefix),
    )
    return ClaudeAgent(
        provider=build_model_client(settings, secrets, watcher),
        model=settings.model,
        router=router,
        audit=audit,
        metrics=metrics,
        redis=stores.redis,
        redis_prefix=settings.redis_prefix,
        daily_token_budget=settings.daily_token_budget,
        notes=NoteStore(pool=stores.pg),
        pause=RedisPauseSwitch(
            redis=stores.redis, prefix=settings.redis_prefix, setting=settings.tools_paused, metrics=metrics
        ),
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
    _intake: EventIntake | None = field(default=None)
    watcher: SecretsWatcher | None = field(default=None)
    """Re-reads the secret files (serve, worker); None = values fixed at start (tests, demo)."""
    incidents: IncidentMemory | None = field(default=None)  # resolved incidents (aiops/incidents.py)
    workspace: SlackWorkspace = field(init=False)  # our Slack host: links to incident threads

    def __post_init__(self) -> None:
        self.workspace = SlackWorkspace(self.slack)

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

    @property
    def intake(self) -> EventIntake:
        """Decide + enqueue for mentions and messages on the HTTP fast path (handlers.fast_ack)."""
        if self._intake is None:
            self._intake = EventIntake(
                redis=self.stores.redis, prefix=self.settings.redis_prefix, metrics=self.metrics
            )
        return self._intake

    def _signing_secret(self) -> Callable[[], str]:
        initial = self.secrets.slack_signing_secret.get_secret_value()
        watcher = self.watcher
        if watcher is None:
            return lambda: initial
        return lambda: watcher.value("slack_signing_secret") or initial

    def web_app(self) -> web.Application:
        rejections = RejectionRecorder(audit=self.audit, metrics=self.metrics)
        bolt = self.bolt
        return build_web_app(
            slack=SlackEndpoint(
                bolt=bolt,
                signing_secret=self._signing_secret(),
                rejections=rejections,
                fast=FastAck(intake=self.intake),
            ),
            alerts=AlertmanagerEndpoint(
                token=self.secrets.alertmanager_token.get_secret_value(),
                queue=self.queue,
                metrics=self.metrics,
                rejections=rejections,
                incident_channel=self.settings.incident_channel,
                guard=AlertGuard(
                    audit=self.audit,
                    blocklist=Blocklist(pool=self.stores.pg, prefix=self.settings.redis_prefix),
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

    def metrics_app(self, *, worker: bool) -> web.Application:
        """`/metrics` + probes on AIOPS_METRICS_PORT (never on the public webhook port); a
        worker's probes are the worker's readiness, a receiver's the receiver's."""
        return build_metrics_app(health=self.worker_health() if worker else self.receiver_health())

    def _private_commands(self) -> dict[str, Command]:
        """Slash commands answered privately beside the identity ones (audit, jobs, memory)."""
        pg = self.stores.pg
        identity: Any = self.identity  # the IdentityService (channel scopes too), behind the protocol
        memory = MemoryCommands(identity=identity, pool=pg, audit=self.audit)
        return incident_commands(self, identity) | {
            AUDIT_COMMAND: AuditCommand(pool=pg, identity=identity),
            JOBS_COMMAND: JobsCommand(identity=identity, pool=pg, queue=self.queue, audit=self.audit),
            REMEMBER: memory,
            MEMORY: memory,
        }

    def worker(
        self,
        *,
        concurrency: int = 4,
        claim_idle_ms: int = DEFAULT_CLAIM_IDLE_MS,
        max_deliveries: int = 3,
    ) -> Worker:
        self._consumers += 1
        self.workspace.start()  # learn our workspace's host (links to incident threads)
        pause = PauseCommands(
            switch=RedisPauseSwitch(redis=self.stores.redis, prefix=self.settings.redis_prefix),
            identity=self.identity,
            audit=self.audit,
        )
        return JobLoggingWorker(  # job ids on every log line of a job
            queue=self.queue,
            states=self.states,
            sessions=self.sessions,
            identity=WithCommands(  # more private slash commands; + /aiops pause|resume
                PauseAwareIdentity(self.identity, pause),
                self._private_commands(),
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
            scheduler=worker_background(self.settings, self.stores.pg, self.queue),  # + change watcher
            store_probe=self.stores.ping_postgres,
            ready_check=self.check_schema,
            posts=SlackPosts(
                client=self.slack,
                link_hosts=hosts_of(
                    self.settings.prometheus_external_url, self.settings.alertmanager_external_url
                ),
                login_hosts=hosts_of(self.settings.keycloak_url), workspace_hosts=self.workspace.hosts,
                prometheus_url=self.settings.prometheus_external_url,  # findings link their queries
            ),
            incidents=incident_recorder(self),
        )

    async def aclose(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
        if self._intake is not None:
            await self._intake.aclose()
        if self.incidents is not None:
            await self.incidents.close()
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
    watcher: SecretsWatcher | None = None,
    incidents: bool = True,
) -> Runtime:
    """Connect everything. Overrides exist for the demo/tests (simulated Slack workspace);
    `incidents=False`: no incident memory (Qdrant local mode is one process at a time)."""
    stores = await open_stores(
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        data_dir=settings.data_dir,
        credentials=StoreCredentials(settings.secrets_dir, settings.ca_bundle),
    )
    try:
        if "postgres" in stores.embedded:  # our own embedded database: keep it migrated
            async with stores.pg.acquire() as conn:
                await migrate(conn)
        metrics = metrics or Metrics()
        version = settings.agent_version
        audit = PostgresAuditLog(pool=stores.pg, agent_version=version, connect=stores.pg_connect)
        stores.on_close(audit.aclose)
        prefix = settings.redis_prefix
        set_build_info(metrics, git_sha=version)
        slack = slack or build_slack_client(settings, secrets, metrics)
        if watcher is not None:  # Bolt's authorize and the workers read client.token per call
            watcher.subscribe(lambda _name, value: setattr(slack, "token", value), "slack_bot_token")
        memory = build_incident_memory(settings, secrets) if incidents else None
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
            identity=identity or build_identity(
                settings, secrets, audit=audit, metrics=metrics, stores=stores, slack=slack),
            agent=with_incident_memory(agent or build_agent(
                settings,
                secrets,
                stores=stores,
                audit=audit,
                metrics=metrics,
                tools=build_tools_for(settings, secrets, stores.pg) if tools is None else tools,
                watcher=watcher,
            ), memory),
            watcher=watcher,
            incidents=memory,
        )
    except BaseException:
        await stores.aclose()
        raise
