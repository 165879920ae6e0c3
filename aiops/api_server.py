"""`aiops api`: the REST API on AIOPS_API_PORT, wired from settings.

It needs Redis (the queue, answer streams, rate limits), PostgreSQL (audit and conversations,
read-only use plus `auth_failure` rows) and Keycloak's JWKS — no Slack secret, no LLM key and no
cluster access: questions are answered by the workers. Like the receiver and the workers it
serves `/metrics`, `/healthz` and `/readyz` on AIOPS_METRICS_PORT (never on the public port):
ready = Redis and PostgreSQL answer and the schema is migrated.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from aiops.http import build_metrics_app
from aiops.tls import server_ssl_context
from app.audit.log import PostgresAuditLog
from app.config import Secrets, Settings
from app.identity.keycloak import KeycloakClient
from app.identity.tokens import JwksCache, TokenVerifier
from app.observability import set_build_info
from app.queue import JobQueue
from app.schema_check import check_schema
from app.store_auth import StoreCredentials
from app.stores import Stores, open_stores
from handlers.api.app import build_api_app
from handlers.api.ask import AskEndpoint
from handlers.api.auth import Authenticator
from handlers.api.limits import RateLimiter
from handlers.api.reads import ReadEndpoints
from handlers.health import HealthEndpoints
from handlers.web.login import WebLogin
from handlers.web.pages import Pages
from handlers.web.routes import add_ui_disabled, add_ui_routes
from handlers.web.session import SessionAuthenticator, WebSessions
from kernel.errors import ConfigError
from kernel.metrics import Metrics

log = logging.getLogger("aiops.api")


@dataclass
class ApiRuntime:
    app: web.Application
    stores: Stores
    http: aiohttp.ClientSession
    metrics: Metrics
    owns_stores: bool = True

    def metrics_app(self) -> web.Application:
        """`/metrics` + probes for AIOPS_METRICS_PORT: the API answers when both stores do and the
        schema it reads is migrated."""
        pg = self.stores.pg

        async def schema() -> None:
            await check_schema(pg)

        checks = {"redis": self.stores.ping_redis, "postgres": self.stores.ping_postgres, "schema": schema}
        return build_metrics_app(health=HealthEndpoints(checks=checks, metrics=self.metrics))

    async def aclose(self) -> None:
        await self.http.close()
        if self.owns_stores:
            await self.stores.aclose()


async def build_api_runtime(
    settings: Settings,
    secrets: Secrets | None = None,
    *,
    metrics: Metrics | None = None,
    answer_timeout_s: float = 300.0, stores: Stores | None = None,
) -> ApiRuntime:
    """`secrets`: only `web_session_key` is used (absent → the Web UI is off, the API works).
    `stores`: already open ones to share (the demo); else opened here and closed by `aclose`."""
    if not settings.keycloak_url:
        raise ConfigError("KEYCLOAK_URL", "required by 'aiops api' (access tokens are verified against it)")
    owns_stores = stores is None
    if stores is None:
        stores = await open_stores(
            database_url=settings.database_url, redis_url=settings.redis_url, data_dir=settings.data_dir,
            credentials=StoreCredentials(settings.secrets_dir, settings.ca_bundle),  # password files
        )
    http = aiohttp.ClientSession()
    keycloak = KeycloakClient(
        base_url=settings.keycloak_url,
        realm=settings.keycloak_realm,
        client_id=settings.keycloak_web_client_id,
        client_secret=None,
        session=http,
    )
    metrics = metrics or Metrics()
    set_build_info(metrics, git_sha=settings.agent_version)
    audit = PostgresAuditLog(pool=stores.pg, agent_version=settings.agent_version)
    verifier = TokenVerifier(
        jwks=JwksCache(fetch=keycloak.jwks), issuer=keycloak.issuer, audience=settings.keycloak_audience
    )
    auth = Authenticator(verifier=verifier, audit=audit, metrics=metrics)
    limiter = RateLimiter(
        redis=stores.redis,
        prefix=settings.redis_prefix,
        per_minute={"ask": settings.api_ask_per_minute, "read": settings.api_read_per_minute},
    )
    oidc = f"{keycloak.issuer}/protocol/openid-connect"
    queue = JobQueue(redis=stores.redis, prefix=settings.redis_prefix)

    def endpoints(authenticator: Authenticator) -> tuple[AskEndpoint, ReadEndpoints]:
        ask = AskEndpoint(
            auth=authenticator,
            limiter=limiter,
            queue=queue,
            redis=stores.redis,
            prefix=settings.redis_prefix,
            answer_timeout_s=answer_timeout_s,
        )
        return ask, ReadEndpoints(auth=authenticator, limiter=limiter, pool=stores.pg)

    ask, reads = endpoints(auth)
    app = build_api_app(
        ask=ask,
        reads=reads,
        auth_config={
            "issuer": keycloak.issuer,
            "client_id": settings.keycloak_web_client_id,
            "device_authorization_endpoint": f"{oidc}/auth/device",
            "token_endpoint": f"{oidc}/token",
            "authorization_endpoint": f"{oidc}/auth",
        },
    )
    if secrets is None or secrets.web_session_key is None:
        add_ui_disabled(app)
    else:
        sessions = WebSessions(
            redis=stores.redis,
            prefix=settings.redis_prefix,
            key=secrets.web_session_key.get_secret_value().encode(),
            token_endpoint=f"{oidc}/token",
            client_id=settings.keycloak_web_client_id,
            http=http,
        )
        ui_ask, ui_reads = endpoints(
            SessionAuthenticator(sessions=sessions, verifier=verifier, audit=audit, metrics=metrics)
        )
        login = WebLogin(
            sessions=sessions,
            redis=stores.redis,
            prefix=settings.redis_prefix,
            verifier=verifier,
            http=http,
            authorization_endpoint=f"{oidc}/auth",
            token_endpoint=f"{oidc}/token",
            client_id=settings.keycloak_web_client_id,
        )
        add_ui_routes(app, pages=Pages(sessions=sessions), login=login, ask=ui_ask, reads=ui_reads)
    return ApiRuntime(app=app, stores=stores, http=http, metrics=metrics, owns_stores=owns_stores)


async def serve_api(settings: Settings, secrets: Secrets, stop: asyncio.Event) -> None:
    runtime = await build_api_runtime(settings, secrets)
    runners: list[web.AppRunner] = []
    try:
        tls = server_ssl_context(settings.secrets_dir)  # tls.crt + tls.key → HTTPS only
        try:
            runners.append(await _start(runtime.metrics_app(), settings.metrics_port, tls))
            log.info("metrics on :%d/metrics", settings.metrics_port)
        except OSError as exc:  # several processes on one host (dev, tests): serve without metrics
            log.error("metrics port %d unavailable (%s): /metrics not served", settings.metrics_port, exc)
        runners.append(await _start(runtime.app, settings.api_port, tls))
        log.info("API listening on :%d", settings.api_port)
        await stop.wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        await runtime.aclose()


async def _start(app: web.Application, port: int, tls: ssl.SSLContext | None) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "0.0.0.0", port, ssl_context=tls).start()  # noqa: S104 (in-cluster)
    except BaseException:
        await runner.cleanup()
        raise
    return runner
