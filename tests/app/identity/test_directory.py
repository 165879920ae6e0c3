"""Directory mode against the Slack and Keycloak simulators: verified email → exactly one
enabled, verified Keycloak account → claims aggregated from attributes and groups."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from app.audit.log import PostgresAuditLog
from app.identity.directory import DirectoryProvider
from app.identity.keycloak import KeycloakClient
from app.identity.service import IdentityService
from app.jobs import Job
from kernel.errors import AuthFailure
from kernel.metrics import Metrics
from sim.keycloak import KeycloakSim
from sim.slack import SlackSimulator
from tests.app.identity.support import auth_failures


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def slack() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator() as sim:
        yield sim


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def provider(slack: SlackSimulator, kc_client: KeycloakClient, clock: Clock) -> DirectoryProvider:
    client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
    return DirectoryProvider(slack=client, keycloak=kc_client, cache_ttl_s=60, clock=clock)


def uid() -> str:
    return f"U{uuid.uuid4().hex[:10].upper()}"


async def test_verified_email_maps_to_keycloak_claims(
    slack: SlackSimulator, kc: KeycloakSim, provider: DirectoryProvider
) -> None:
    user = uid()
    slack.add_user(user, "vera", email="Vera@Example.com")
    kc.add_user(
        "vera",
        email="vera@example.com",
        namespaces=["team-a"],
        roles=["viewer"],
        groups=[{"name": "team-c-readers", "attributes": {"aiops_namespaces": ["team-c", "team-a"]}}],
    )
    identity = await provider.identify(user)
    assert identity.username == "vera" and identity.subject == kc.users["vera"].id
    assert identity.namespaces == {"team-a", "team-c"} and identity.roles == {"viewer"}
    assert identity.slack_user_id == user


async def test_directory_lookups_are_cached_briefly(
    slack: SlackSimulator, kc: KeycloakSim, provider: DirectoryProvider, clock: Clock
) -> None:
    user = uid()
    slack.add_user(user, "anna", email="anna@example.com")
    kc.add_user("anna", email="anna@example.com", namespaces=["team-b"], roles=["analyst"])
    await provider.identify(user)
    searches = len([r for r in kc.requests if r[1].endswith("/users")])
    await provider.identify(user)
    assert len([r for r in kc.requests if r[1].endswith("/users")]) == searches
    kc.users["anna"].attributes["aiops_roles"] = []  # role revoked in Keycloak
    clock.now += 61
    assert (await provider.identify(user)).roles == frozenset()
    # the bot's own client-credentials token was fetched once and reused
    grants = [r for r in kc.requests if r[1].endswith("/token")]
    assert len(grants) == 1


@pytest.mark.parametrize(
    "case, reason",
    [
        ("slack_unconfirmed", "email_unverified"),
        ("keycloak_unverified", "email_unverified"),
        ("no_account", "unknown_user"),
        ("two_accounts", "unknown_user"),
        ("disabled", "unknown_user"),
        ("unknown_slack_user", "unknown_user"),
        ("roles_not_a_list", "token_invalid"),
        ("group_namespace_bad", "token_invalid"),
    ],
)
async def test_refusals(
    slack: SlackSimulator, kc: KeycloakSim, provider: DirectoryProvider, case: str, reason: str
) -> None:
    user = uid()
    email = f"{case}@example.com"
    if case != "unknown_slack_user":
        slack.add_user(user, case, email=email, is_email_confirmed=case != "slack_unconfirmed")
    if case != "no_account":
        kc.add_user(
            case,
            email=email,
            namespaces=["team-a"],
            roles=["viewer"],
            email_verified=case != "keycloak_unverified",
            enabled=case != "disabled",
            groups=[{"name": "g", "attributes": {"aiops_namespaces": ["Team A"]}}]
            if case == "group_namespace_bad"
            else None,
        )
    if case == "two_accounts":
        kc.add_user("twin", email=email.upper(), namespaces=["team-z"], roles=["admin"])
    if case == "roles_not_a_list":
        kc.users[case].attributes["aiops_roles"] = "admin"  # type: ignore[assignment]
    with pytest.raises(AuthFailure) as info:
        await provider.identify(user)
    assert info.value.reason == reason
    assert "Traceback" not in info.value.user_message and kc.client_secret not in info.value.user_message


async def test_missing_email_scope_is_refused(kc: KeycloakSim, kc_client: KeycloakClient) -> None:
    async with SlackSimulator(scopes=["chat:write", "users:read"]) as slack:
        user = uid()
        slack.add_user(user, "vera", email="vera@example.com")
        kc.add_user("vera", email="vera@example.com", namespaces=["team-a"], roles=["viewer"])
        client = AsyncWebClient(base_url=slack.base_url, token=slack.bot_token)
        with pytest.raises(AuthFailure) as info:
            await DirectoryProvider(slack=client, keycloak=kc_client).identify(user)
        assert info.value.reason == "email_unverified"


async def test_keycloak_down_is_audited_and_fails_closed(
    slack: SlackSimulator,
    kc: KeycloakSim,
    provider: DirectoryProvider,
    audit_log: PostgresAuditLog,
    pg_pool: asyncpg.Pool,
    metrics: Metrics,
) -> None:
    user = uid()
    slack.add_user(user, "vera", email="vera@example.com")
    kc.add_user("vera", email="vera@example.com", namespaces=["team-a"], roles=["viewer"])
    service = IdentityService(
        provider=provider, channel_scopes={}, audit=audit_log, metrics=metrics, channel_default="own"
    )
    kc.fail_next(1, status=503)
    with pytest.raises(AuthFailure) as info:
        await service.scope_for(
            Job(job_id=uuid.uuid4().hex, kind="mention", channel_id="C1", user_id=user, text="q")
        )
    assert info.value.reason == "idp_unavailable"
    assert await auth_failures(pg_pool, user) == ["idp_unavailable"]
    text = await service.command(
        Job(job_id="j", kind="command", channel_id="C1", user_id=user, text="", command="whoami")
    )
    assert "`vera`" in text and "your verified Slack email" in text


async def test_admin_api_needs_the_bots_client_credentials(kc: KeycloakSim) -> None:
    import aiohttp

    kc.add_user("vera", email="vera@example.com")
    async with aiohttp.ClientSession() as http:
        url = f"{kc.base_url}/admin/realms/{kc.realm}/users?email=vera@example.com&exact=true"
        async with http.get(url) as resp:
            assert resp.status == 401
        user_token = kc.token_for("vera")  # a user's own access token is not an admin credential
        async with http.get(url, headers={"Authorization": f"Bearer {user_token}"}) as resp:
            assert resp.status == 401
