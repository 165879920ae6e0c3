"""Bound device login (issue 11 item 4), against the Keycloak and Slack simulators over HTTP
and real PostgreSQL: the approving Keycloak identity must be the Slack user who asked (verified
email = Slack profile email, or the `slack_user_id` attribute); a subject links to at most one
Slack user unless an admin allows more; link, relink, unlink and refusals are `identity` audit
events; admins list and revoke links with `/aiops links`."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from app.audit.log import PostgresAuditLog
from app.identity.binding import BindingMode, LinkBinding, slack_email_lookup
from app.identity.device import DeviceFlowProvider
from app.identity.keycloak import KeycloakClient
from app.identity.links import LinkCipher, PostgresLinkStore
from app.identity.service import IdentityService
from app.identity.tokens import JwksCache, TokenVerifier
from app.jobs import Job
from kernel.metrics import Metrics
from sim.keycloak import KeycloakSim
from sim.slack import SlackSimulator
from tests.app.identity.support import auth_failures
from tests.app.identity.test_device_flow import KEY, Clock, Ticker


@dataclass
class Bound:
    kc: KeycloakSim
    slack: SlackSimulator
    service: IdentityService
    ticker: Ticker
    told: list[tuple[str, str]]


def uid() -> str:
    return f"U{uuid.uuid4().hex[:10].upper()}"


async def _make(
    kc: KeycloakSim,
    kc_client: KeycloakClient,
    pg_pool: asyncpg.Pool,
    audit_log: PostgresAuditLog,
    metrics: Metrics,
    slack: SlackSimulator,
    *,
    mode: BindingMode = "email",
    max_users: int = 1,
) -> Bound:
    client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
    ticker = Ticker()
    provider = DeviceFlowProvider(
        keycloak=kc_client,
        verifier=TokenVerifier(jwks=JwksCache(fetch=kc_client.jwks), issuer=kc.issuer, audience=kc.audience),
        links=PostgresLinkStore(pool=pg_pool, cipher=LinkCipher(key=KEY)),
        clock=Clock(),
        sleep=ticker.sleep,
        binding=LinkBinding(mode=mode, slack_email=slack_email_lookup(client), max_slack_users=max_users),
    )
    told: list[tuple[str, str]] = []

    async def notify(user: str, text: str) -> None:
        told.append((user, text))

    service = IdentityService(
        provider=provider, channel_scopes={}, audit=audit_log, metrics=metrics, notify=notify
    )
    return Bound(kc, slack, service, ticker, told)


@pytest.fixture
async def slack() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator() as sim:
        yield sim


@pytest.fixture
async def bound(
    kc: KeycloakSim,
    kc_client: KeycloakClient,
    pg_pool: asyncpg.Pool,
    audit_log: PostgresAuditLog,
    metrics: Metrics,
    slack: SlackSimulator,
) -> AsyncIterator[Bound]:
    kc.add_user("vera", email="vera@example.com", namespaces=["team-a"], roles=["viewer"])
    kc.add_user("adam", email="Adam@Example.com", namespaces=[], roles=["admin"])
    b = await _make(kc, kc_client, pg_pool, audit_log, metrics, slack)
    yield b
    await b.service.aclose()


def command(user: str, text: str) -> Job:
    word = text.split()[0]
    return Job(
        job_id=uuid.uuid4().hex, kind="command", channel_id="D0X", user_id=user, text=text, command=word
    )


async def login_as(b: Bound, user: str, username: str) -> str:
    await b.service.command(command(user, "login"))
    (device,) = [d for d in b.kc.devices.values() if d.state == "pending"]
    b.kc.approve(device.user_code, username)
    b.ticker.tick()
    await asyncio.wait_for(b.service.wait_logins(), 10)
    return b.told[-1][1]


async def identity_rows(pool: asyncpg.Pool, user: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT failure_reason FROM audit_events WHERE event_type = 'identity' AND user_id = $1"
        " ORDER BY timestamp",
        user,
    )
    return [r["failure_reason"] for r in rows]


async def test_an_admin_approving_an_attackers_code_does_not_link_the_attacker(
    bound: Bound, pg_pool: asyncpg.Pool
) -> None:
    mallory = uid()
    bound.slack.add_user(mallory, "mallory", email="mallory@example.com")
    told = await login_as(bound, mallory, "adam")  # Adam was tricked into approving the code
    assert "isn't yours" in told
    assert (
        await pg_pool.fetchval("SELECT count(*) FROM identity_links WHERE slack_user_id = $1", mallory) == 0
    )
    assert await identity_rows(pg_pool, mallory) == ["link_refused:email_mismatch"]
    assert await auth_failures(pg_pool, mallory) == ["link_refused"]


async def test_own_verified_email_links_case_insensitively_and_relink_is_audited(
    bound: Bound, pg_pool: asyncpg.Pool
) -> None:
    adam = uid()
    bound.slack.add_user(adam, "adam", email="adam@example.com")
    assert "logged in as *adam*" in await login_as(bound, adam, "adam")
    assert "logged in as *adam*" in await login_as(bound, adam, "adam")
    assert await bound.service.command(command(adam, "logout"))
    assert await identity_rows(pg_pool, adam) == ["link", "relink", "unlink"]
    row = await pg_pool.fetchrow(
        "SELECT tool_calls FROM audit_events WHERE event_type = 'identity' AND user_id = $1 LIMIT 1", adam
    )
    assert json.loads(row["tool_calls"])[0]["subject"] == bound.kc.users["adam"].id


async def test_unverified_keycloak_email_or_unconfirmed_slack_email_is_refused(
    bound: Bound, pg_pool: asyncpg.Pool
) -> None:
    bound.kc.add_user(
        "una", email="una@example.com", email_verified=False, namespaces=["x"], roles=["viewer"]
    )
    una = uid()
    bound.slack.add_user(una, "una", email="una@example.com")
    assert "isn't yours" in await login_as(bound, una, "una")
    vera = uid()
    bound.slack.add_user(vera, "vera", email="vera@example.com", is_email_confirmed=False)
    assert "isn't yours" in await login_as(bound, vera, "vera")
    assert await identity_rows(pg_pool, una) == ["link_refused:keycloak_email_unverified"]
    assert await identity_rows(pg_pool, vera) == ["link_refused:slack_email_unknown"]


async def test_one_subject_links_at_most_one_slack_user(bound: Bound, pg_pool: asyncpg.Pool) -> None:
    first, second = uid(), uid()
    bound.slack.add_user(first, "vera", email="vera@example.com")
    bound.slack.add_user(second, "vera2", email="vera@example.com")  # e.g. a second workspace
    assert "logged in as *vera*" in await login_as(bound, first, "vera")
    assert "isn't yours" in await login_as(bound, second, "vera")
    assert await identity_rows(pg_pool, second) == ["link_refused:subject_already_linked"]


async def test_admin_setting_allows_more_slack_users_per_subject(
    kc: KeycloakSim,
    kc_client: KeycloakClient,
    pg_pool: asyncpg.Pool,
    audit_log: PostgresAuditLog,
    metrics: Metrics,
    slack: SlackSimulator,
) -> None:
    kc.add_user("gina", email="gina@example.com", namespaces=["g"], roles=["viewer"])
    b = await _make(kc, kc_client, pg_pool, audit_log, metrics, slack, max_users=2)
    one, two = uid(), uid()
    slack.add_user(one, "gina", email="gina@example.com")
    slack.add_user(two, "gina-grid", email="gina@example.com")
    assert "logged in" in await login_as(b, one, "gina")
    assert "logged in" in await login_as(b, two, "gina")
    await b.service.aclose()


async def test_attribute_binding(
    kc: KeycloakSim,
    kc_client: KeycloakClient,
    pg_pool: asyncpg.Pool,
    audit_log: PostgresAuditLog,
    metrics: Metrics,
    slack: SlackSimulator,
) -> None:
    hal = uid()
    kc.add_user(
        "hal",
        email="other@example.com",
        namespaces=["h"],
        roles=["viewer"],
        attributes={"slack_user_id": [hal]},
    )
    b = await _make(kc, kc_client, pg_pool, audit_log, metrics, slack, mode="attribute")
    slack.add_user(hal, "hal", email="hal@example.com")  # email differs: the attribute decides
    assert "logged in as *hal*" in await login_as(b, hal, "hal")
    imposter = uid()
    slack.add_user(imposter, "imp", email="other@example.com")
    assert "isn't yours" in await login_as(b, imposter, "hal")
    assert await identity_rows(pg_pool, imposter) == ["link_refused:attribute_mismatch"]
    await b.service.aclose()


async def test_admins_list_and_revoke_links(bound: Bound, pg_pool: asyncpg.Pool) -> None:
    adam, vera = uid(), uid()
    bound.slack.add_user(adam, "adam", email="adam@example.com")
    bound.slack.add_user(vera, "vera", email="vera@example.com")
    await login_as(bound, adam, "adam")
    await login_as(bound, vera, "vera")
    assert "Only aiops admins" in await bound.service.command(command(vera, "links"))
    listing = await bound.service.command(command(adam, "links"))
    assert f"<@{vera}>" in listing and bound.kc.users["vera"].id in listing
    revoked = await bound.service.command(command(adam, f"links revoke <@{vera}>"))
    assert "Unlinked" in revoked
    assert await pg_pool.fetchval("SELECT count(*) FROM identity_links WHERE slack_user_id = $1", vera) == 0
    assert await identity_rows(pg_pool, adam) == ["link", "unlink_by_admin"]
    admin_rows = await pg_pool.fetch(
        "SELECT * FROM audit_events WHERE event_type = 'admin' AND user_id = $1", adam
    )
    assert len(admin_rows) == 1
