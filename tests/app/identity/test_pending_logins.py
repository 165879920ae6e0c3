"""Device logins kept in Redis (app.identity.pending): two identity services play two workers
sharing real Redis and PostgreSQL, with the Keycloak simulator (1 s polling interval) over HTTP.
The process-level test (a SIGKILLed worker) is tests/scenario/test_login_failover.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from app.audit.log import PostgresAuditLog
from app.identity import messages
from app.identity.device import DeviceFlowProvider
from app.identity.keycloak import KeycloakClient
from app.identity.links import LinkCipher, PostgresLinkStore
from app.identity.pending import PendingLogins
from app.identity.provider import DeviceLogin
from app.identity.service import IdentityService
from app.identity.tokens import JwksCache, TokenVerifier
from app.jobs import Job
from kernel.metrics import Metrics
from sim.keycloak import KeycloakSim

KEY = SecretStr("pending logins test key 0123456789")


@dataclass
class Worker:
    service: IdentityService
    told: list[tuple[str, str]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    sweeper: asyncio.Task[None] | None = None

    def sweep(self) -> None:
        self.sweeper = asyncio.create_task(self.service.resume_logins(self.stop))


Make = Callable[..., Awaitable[Worker]]


@pytest.fixture
async def make_worker(
    kc: KeycloakSim, pg_pool: asyncpg.Pool, redis_client: aioredis.Redis, redis_prefix: str
) -> AsyncIterator[Make]:
    kc.interval = 1
    kc.add_user("vera", email="vera@example.com", namespaces=["team-a"], roles=["viewer"])
    made: list[Worker] = []

    async def make(key: SecretStr = KEY, redis: aioredis.Redis | None = None) -> Worker:
        client = KeycloakClient(
            base_url=kc.base_url,
            realm=kc.realm,
            client_id=kc.client_id,
            client_secret=SecretStr(kc.client_secret or ""),
        )
        verifier = TokenVerifier(jwks=JwksCache(fetch=client.jwks), issuer=kc.issuer, audience=kc.audience)
        links = PostgresLinkStore(pool=pg_pool, cipher=LinkCipher(key=KEY))
        provider = DeviceFlowProvider(keycloak=client, verifier=verifier, links=links)
        worker = Worker(service=None)  # type: ignore[arg-type]

        async def notify(user: str, text: str) -> None:
            worker.told.append((user, text))

        worker.service = IdentityService(
            provider=provider,
            channel_scopes={},
            audit=PostgresAuditLog(pool=pg_pool, agent_version="t"),
            metrics=Metrics(),
            notify=notify,
            channel_default="own",
            pending=PendingLogins(
                redis=redis or redis_client, prefix=redis_prefix, cipher=LinkCipher(key=key)
            ),
        )
        made.append(worker)
        return worker

    yield make
    for w in made:
        w.stop.set()
        await w.service.aclose()
        if w.sweeper is not None:
            await w.sweeper


def user() -> str:
    return f"U{uuid.uuid4().hex[:10].upper()}"


def command(slack_user: str, name: str) -> Job:
    return Job(
        job_id=uuid.uuid4().hex,
        kind="command",
        channel_id="D0X",
        user_id=slack_user,
        text="",
        command=name,
        event_ts="1.0",
    )


async def login(w: Worker, kc: KeycloakSim, slack_user: str) -> str:
    before = set(kc.devices)
    await w.service.command(command(slack_user, "login"))
    (code,) = [d.user_code for k, d in kc.devices.items() if k not in before]
    return code


async def until(predicate: Callable[[], object], within_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def identity_rows(pool: asyncpg.Pool, slack_user: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT failure_reason FROM audit_events WHERE event_type = 'identity' "
        "AND user_id = $1 ORDER BY timestamp",
        slack_user,
    )
    return [r["failure_reason"] for r in rows]


async def test_a_stopping_worker_hands_its_login_over_at_once(
    make_worker: Make, kc: KeycloakSim, pg_pool: asyncpg.Pool
) -> None:
    a, b = await make_worker(), await make_worker()
    b.sweep()
    u = user()
    code = await login(a, kc, u)
    await until(lambda: kc.device(code).polls > 0)
    await a.service.aclose()  # graceful: the lease is released, not left to lapse
    kc.approve(code, "vera")
    await until(lambda: b.told)
    assert b.told == [(u, b.told[0][1])] and "vera" in b.told[0][1] and a.told == []
    assert await identity_rows(pg_pool, u) == ["link"]


async def test_logout_on_another_worker_ends_the_login_everywhere(
    make_worker: Make, kc: KeycloakSim, pg_pool: asyncpg.Pool, redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    a, b = await make_worker(), await make_worker()
    u = user()
    code = await login(a, kc, u)
    await until(lambda: kc.device(code).polls > 0)
    await b.service.command(command(u, "logout"))
    assert not await redis_client.exists(f"{redis_prefix}:login:{u}")
    kc.approve(code, "vera")
    await a.service.wait_logins()  # A's poller stops at its next lease renewal
    assert kc.device(code).state == "approved"  # never redeemed: nobody got the tokens
    assert a.told == b.told == [] and await identity_rows(pg_pool, u) == []


async def test_a_second_login_replaces_the_first_on_every_worker(
    make_worker: Make, kc: KeycloakSim, pg_pool: asyncpg.Pool
) -> None:
    a, b = await make_worker(), await make_worker()
    u = user()
    first = await login(a, kc, u)
    second = await login(b, kc, u)
    kc.approve(first, "vera")
    await a.service.wait_logins()  # superseded: A stops without redeeming the first code
    assert kc.device(first).state == "approved"
    kc.approve(second, "vera")
    await b.service.wait_logins()
    assert a.told == [] and len(b.told) == 1 and "vera" in b.told[0][1]
    assert await identity_rows(pg_pool, u) == ["link"]


async def test_state_that_does_not_decrypt_is_dropped_not_resumed(
    make_worker: Make, kc: KeycloakSim, redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    a = await make_worker()
    other_key = await make_worker(SecretStr("another link encryption key 98765"))
    u = user()
    code = await login(a, kc, u)
    await until(lambda: kc.device(code).polls > 0)
    await a.service.aclose()
    polls = kc.device(code).polls
    other_key.sweep()  # a worker with another link_encryption_key cannot read the device code
    state = f"{redis_prefix}:login:{u}"
    for _ in range(200):
        if not await redis_client.exists(state):
            break
        await asyncio.sleep(0.05)
    assert not await redis_client.exists(state)
    assert kc.device(code).polls == polls and other_key.told == []


async def test_a_login_its_dead_poller_completed_is_reported_as_linked(
    make_worker: Make, kc: KeycloakSim, pg_pool: asyncpg.Pool
) -> None:
    """Worker A redeemed the code and stored the link, then died before reporting: the worker that
    resumes the login finds the code used. The user is linked, and is told so, not 'refused'."""
    a, b = await make_worker(), await make_worker()
    u = user()
    code = await login(a, kc, u)
    await until(lambda: kc.device(code).polls > 0)
    await a.service.aclose()  # A stops polling; its lease is handed over
    kc.approve(code, "vera")
    d = kc.device(code)
    dead = DeviceLogin(user_code=d.user_code, verification_uri="", verification_uri_complete=None,
                       expires_in=600, interval=1, device_code=d.device_code)  # fmt: skip
    # A's last act before dying: the code redeemed, the link stored, nothing reported yet
    await a.service._provider.complete_login(u, dead)  # type: ignore[attr-defined]
    assert kc.device(code).state == "used"
    b.sweep()
    await until(lambda: b.told)
    assert len(b.told) == 1 and "vera" in b.told[0][1] and "refused" not in b.told[0][1].lower()
    assert await identity_rows(pg_pool, u) == ["link"]


async def test_one_tampered_login_does_not_stop_the_sweep(
    make_worker: Make, kc: KeycloakSim, pg_pool: asyncpg.Pool, redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    a, b = await make_worker(), await make_worker()
    bad, u = user(), user()
    await login(a, kc, bad)  # the older login: the sweep meets it first
    code = await login(a, kc, u)
    await until(lambda: kc.device(code).polls > 0)
    await a.service.aclose()
    await redis_client.hset(f"{redis_prefix}:login:{bad}", "interval", "not a number")
    kc.approve(code, "vera")
    b.sweep()
    await until(lambda: b.told)
    assert [who for who, _ in b.told] == [u] and await identity_rows(pg_pool, u) == ["link"]
    assert not await redis_client.exists(f"{redis_prefix}:login:{bad}")


async def test_logout_works_while_redis_is_down(make_worker: Make) -> None:
    """Revoking access must not depend on the store of pending logins."""
    unreachable = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    w = await make_worker(redis=unreachable)
    try:
        said = await w.service.command(command(user(), "logout"))
        assert said == messages.LOGOUT_NOTHING
    finally:
        await unreachable.aclose()
