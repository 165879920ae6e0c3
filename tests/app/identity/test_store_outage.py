"""A store outage is never an authentication failure: with the identity-link table unreachable
(a private PostgreSQL, stopped), `scope_for` raises StoreUnavailable — nobody is refused as if
unlinked, no auth-failure is counted or audited — and the same user is judged normally again
once the database is back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog
from app.audit.migrate import migrate
from app.identity.device import DeviceFlowProvider
from app.identity.keycloak import KeycloakClient
from app.identity.links import LinkCipher, PostgresLinkStore
from app.identity.service import IdentityService
from app.identity.tokens import JwksCache, TokenVerifier
from app.jobs import Job
from kernel.errors import AuthFailure, StoreUnavailable
from kernel.metrics import Metrics
from sim.keycloak import KeycloakSim
from tests.app.identity.support import auth_failures, counter
from tests.app.identity.test_device_flow import KEY
from tests.fixtures.private_servers import PrivatePostgres, private_pg

__all__ = ["private_pg"]


@pytest.fixture
async def links_pool(private_pg: PrivatePostgres) -> AsyncIterator[asyncpg.Pool]:
    conn = await asyncpg.connect(private_pg.dsn())
    try:
        await migrate(conn)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(private_pg.dsn(), min_size=1, max_size=2)
    assert pool is not None
    yield pool
    pool.terminate()


async def test_link_store_outage_is_not_an_auth_failure(
    private_pg: PrivatePostgres, links_pool: asyncpg.Pool, kc: KeycloakSim, kc_client: KeycloakClient,
    audit_log: PostgresAuditLog, pg_pool: asyncpg.Pool, metrics: Metrics,
) -> None:
    verifier = TokenVerifier(jwks=JwksCache(fetch=kc_client.jwks), issuer=kc.issuer, audience=kc.audience)
    links = PostgresLinkStore(pool=links_pool, cipher=LinkCipher(key=KEY))
    provider = DeviceFlowProvider(keycloak=kc_client, verifier=verifier, links=links)
    service = IdentityService(provider=provider, channel_scopes={}, audit=audit_log, metrics=metrics)
    user = f"U{uuid.uuid4().hex[:10].upper()}"
    job = Job(job_id=uuid.uuid4().hex, kind="dm", channel_id="D0OUTAGE", user_id=user, text="q",
              event_ts="1.0")

    private_pg.stop(mode="fast")
    for _ in range(3):  # dropped pooled connection, then refused new ones
        with pytest.raises(StoreUnavailable):
            await service.scope_for(job)
    assert counter(metrics, "unlinked") == counter(metrics, "idp_unavailable") == 0.0
    assert await auth_failures(pg_pool, user) == []  # nothing to audit: nobody was refused

    private_pg.start()
    with pytest.raises(AuthFailure) as refused:  # the store answers again: a real verdict
        await service.scope_for(job)
    assert refused.value.reason == "unlinked"
    assert await auth_failures(pg_pool, user) == ["unlinked"]
