"""Device mode end to end against the Keycloak simulator over HTTP and real PostgreSQL:
login (pending → slow_down → approved, expired, denied), the encrypted link, refresh, refresh
failure, logout, and the refusals users see."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from app.audit.log import PostgresAuditLog
from app.identity.device import DeviceFlowProvider
from app.identity.keycloak import KeycloakClient
from app.identity.links import LinkCipher, PostgresLinkStore
from app.identity.service import IdentityService
from app.identity.tokens import JwksCache, TokenVerifier
from app.jobs import Job
from kernel.errors import AuthFailure
from kernel.metrics import Metrics
from sim.keycloak import KeycloakSim
from tests.app.identity.support import auth_failures, counter

KEY = SecretStr("correct horse battery staple 0123456789")


class Ticker:
    """The provider's sleep(): records the interval asked for, returns when the test ticks."""

    def __init__(self) -> None:
        self.requested: list[float] = []
        self._ticks: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        self.requested.append(seconds)
        await self._ticks.get()

    def tick(self) -> None:
        self._ticks.put_nowait(None)


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Rig:
    kc: KeycloakSim
    service: IdentityService
    provider: DeviceFlowProvider
    links: PostgresLinkStore
    ticker: Ticker
    clock: Clock
    told: list[tuple[str, str]] = field(default_factory=list)


async def wait_until(predicate: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def rig(
    kc: KeycloakSim,
    kc_client: KeycloakClient,
    pg_pool: asyncpg.Pool,
    audit_log: PostgresAuditLog,
    metrics: Metrics,
) -> AsyncIterator[Rig]:
    kc.add_user("vera", email="vera@example.com", namespaces=["team-a"], roles=["viewer"])
    kc.add_user("adam", email="adam@example.com", namespaces=[], roles=["admin"])
    ticker, clock = Ticker(), Clock()
    links = PostgresLinkStore(pool=pg_pool, cipher=LinkCipher(key=KEY))
    verifier = TokenVerifier(jwks=JwksCache(fetch=kc_client.jwks), issuer=kc.issuer, audience=kc.audience)
    provider = DeviceFlowProvider(
        keycloak=kc_client, verifier=verifier, links=links, clock=clock, sleep=ticker.sleep
    )
    told: list[tuple[str, str]] = []

    async def notify(user: str, text: str) -> None:
        told.append((user, text))

    service = IdentityService(
        provider=provider,
        channel_scopes={"C0TEAMA": frozenset({"team-a"})},
        audit=audit_log,
        metrics=metrics,
        channel_default="own",  # these tests are about unlisted channels as "no channel scope"
        notify=notify,
    )
    r = Rig(kc, service, provider, links, ticker, clock, told)
    yield r
    await service.aclose()


def slack_user() -> str:
    return f"U{uuid.uuid4().hex[:10].upper()}"


def job(user: str, channel: str = "C0OPEN", command: str | None = None) -> Job:
    return Job(
        job_id=uuid.uuid4().hex,
        kind="command" if command else "mention",
        channel_id=channel,
        user_id=user,
        text="q",
        command=command,
        event_ts="1.0",
    )


async def start_login(r: Rig, user: str) -> str:
    text = await r.service.command(job(user, command="login"))
    (device,) = [d for d in r.kc.devices.values() if d.state == "pending" and d.polls == 0]
    assert f"*{device.user_code}*" in text
    assert f"{r.kc.issuer}/device?user_code={device.user_code}" in text
    assert "10 min" in text
    return device.user_code


async def poll(r: Rig, user_code: str) -> None:
    device = r.kc.device(user_code)
    before = device.polls
    r.ticker.tick()
    await wait_until(lambda: device.polls > before)


async def login(r: Rig, user: str, username: str) -> None:
    code = await start_login(r, user)
    r.kc.approve(code, username)
    r.ticker.tick()
    await asyncio.wait_for(r.service.wait_logins(), 10)


async def test_login_pending_slow_down_approved(rig: Rig, pg_pool: asyncpg.Pool) -> None:
    user = slack_user()
    code = await start_login(rig, user)
    await poll(rig, code)  # authorization_pending
    rig.kc.slow_down(code)
    await poll(rig, code)  # slow_down → interval grows by 5 s
    rig.kc.approve(code, "vera")
    rig.ticker.tick()
    await asyncio.wait_for(rig.service.wait_logins(), 10)
    assert rig.ticker.requested == [5, 5, 10]
    assert rig.told == [(user, "You're logged in as *vera* (viewer). Namespaces: `team-a`.")]
    # the link is stored, the refresh token only encrypted
    row = await pg_pool.fetchrow("SELECT * FROM identity_links WHERE slack_user_id = $1", user)
    assert row is not None and row["subject"] == rig.kc.users["vera"].id
    stored = await rig.links.get(user)
    assert stored is not None and stored.refresh_token.get_secret_value() in rig.kc.refresh_tokens
    assert stored.refresh_token.get_secret_value().encode() not in bytes(row["refresh_token_enc"])
    scope = await rig.service.scope_for(job(user))
    assert scope.namespaces == {"team-a"} and scope.user_id == rig.kc.users["vera"].id


async def test_login_code_expires(rig: Rig, pg_pool: asyncpg.Pool, metrics: Metrics) -> None:
    user = slack_user()
    code = await start_login(rig, user)
    await poll(rig, code)
    rig.kc.expire(code)
    rig.ticker.tick()
    await asyncio.wait_for(rig.service.wait_logins(), 10)
    assert rig.told == [
        (user, "The login code expired before it was confirmed. Run `/aiops login` to get a new one.")
    ]
    assert await auth_failures(pg_pool, user) == ["token_expired"]
    assert counter(metrics, "token_expired") == 1
    assert await rig.links.get(user) is None


async def test_login_expiry_by_our_own_deadline(rig: Rig) -> None:
    user = slack_user()
    code = await start_login(rig, user)
    rig.clock.offset = 601  # the code's lifetime passed while we slept
    rig.ticker.tick()
    await asyncio.wait_for(rig.service.wait_logins(), 10)
    assert "expired" in rig.told[0][1] and rig.kc.device(code).polls == 0


async def test_login_denied(rig: Rig, pg_pool: asyncpg.Pool) -> None:
    user = slack_user()
    code = await start_login(rig, user)
    rig.kc.deny(code)
    rig.ticker.tick()
    await asyncio.wait_for(rig.service.wait_logins(), 10)
    assert "denied" in rig.told[0][1] and "/aiops login" in rig.told[0][1]
    assert await auth_failures(pg_pool, user) == ["unlinked"]


async def test_unlinked_user_is_told_how_to_link(rig: Rig, pg_pool: asyncpg.Pool) -> None:
    user = slack_user()
    with pytest.raises(AuthFailure) as info:
        await rig.service.scope_for(job(user))
    assert info.value.reason == "unlinked" and "`/aiops login`" in info.value.user_message
    assert await auth_failures(pg_pool, user) == ["unlinked"]
    assert "`/aiops login`" in await rig.service.command(job(user, command="whoami"))


async def test_refresh_when_access_token_expires(rig: Rig) -> None:
    user = slack_user()
    await login(rig, user, "vera")
    before = await rig.links.get(user)
    assert before is not None
    token_posts = len([r for r in rig.kc.requests if r[1].endswith("/token")])
    await rig.service.scope_for(job(user))  # cached access token: no Keycloak call
    assert len([r for r in rig.kc.requests if r[1].endswith("/token")]) == token_posts
    rig.clock.offset = 400  # past the 300 s access token lifetime
    scope = await rig.service.scope_for(job(user))
    assert scope.namespaces == {"team-a"}
    assert len([r for r in rig.kc.requests if r[1].endswith("/token")]) == token_posts + 1
    after = await rig.links.get(user)
    assert after is not None  # Keycloak rotated the refresh token; the new one is stored
    assert after.refresh_token.get_secret_value() != before.refresh_token.get_secret_value()


async def test_claims_change_is_seen_after_refresh(rig: Rig) -> None:
    user = slack_user()
    await login(rig, user, "vera")
    rig.kc.users["vera"].attributes["aiops_namespaces"] = ["team-b"]
    rig.clock.offset = 400
    assert (await rig.service.scope_for(job(user))).namespaces == {"team-b"}


async def test_refresh_refused_means_login_again(rig: Rig, pg_pool: asyncpg.Pool) -> None:
    user = slack_user()
    await login(rig, user, "vera")
    rig.kc.revoke_refresh_tokens()
    rig.clock.offset = 400
    with pytest.raises(AuthFailure) as info:
        await rig.service.scope_for(job(user))
    assert info.value.reason == "token_expired" and "/aiops login" in info.value.user_message
    assert await auth_failures(pg_pool, user) == ["token_expired"]
    with pytest.raises(AuthFailure) as info:
        await rig.service.scope_for(job(user))
    assert info.value.reason == "unlinked"


async def test_keycloak_down_during_refresh_fails_closed(rig: Rig) -> None:
    user = slack_user()
    await login(rig, user, "vera")
    rig.clock.offset = 400
    rig.kc.fail_next(1, status=502)
    with pytest.raises(AuthFailure) as info:
        await rig.service.scope_for(job(user))
    assert info.value.reason == "idp_unavailable" and "try again" in info.value.user_message
    assert await rig.links.get(user) is not None  # a transient outage does not end the link
    assert (await rig.service.scope_for(job(user))).namespaces == {"team-a"}


async def test_refreshed_token_for_another_subject_refused(rig: Rig) -> None:
    user = slack_user()
    await login(rig, user, "vera")
    link = await rig.links.get(user)
    assert link is not None
    token = link.refresh_token.get_secret_value()
    rig.kc.refresh_tokens[token] = ("adam", rig.kc.refresh_tokens[token][1])  # IdP answers for adam
    rig.clock.offset = 400
    with pytest.raises(AuthFailure) as info:
        await rig.service.scope_for(job(user))
    assert info.value.reason == "token_invalid"


async def test_logout_removes_link(rig: Rig) -> None:
    user = slack_user()
    await login(rig, user, "adam")
    assert (await rig.service.scope_for(job(user))).namespaces is None
    assert "Logged out" in await rig.service.command(job(user, command="logout"))
    with pytest.raises(AuthFailure) as info:
        await rig.service.scope_for(job(user))
    assert info.value.reason == "unlinked"
    assert "weren't logged in" in await rig.service.command(job(user, command="logout"))


async def test_whoami_shows_token_expiry_and_channel_scope(rig: Rig) -> None:
    user = slack_user()
    await login(rig, user, "adam")
    text = await rig.service.command(job(user, channel="C0TEAMA", command="whoami"))
    assert "`adam`" in text and "admin" in text and "UTC" in text
    assert "(scoped to `team-a`):* team-a" in text


async def test_stored_link_does_not_decrypt_with_another_key_or_user(rig: Rig, pg_pool: asyncpg.Pool) -> None:
    user, other = slack_user(), slack_user()
    await login(rig, user, "vera")
    # a row copied onto another Slack user does not decrypt (bound by associated data)
    await pg_pool.execute(
        "INSERT INTO identity_links (slack_user_id, subject, refresh_token_enc)"
        " SELECT $2, subject, refresh_token_enc FROM identity_links WHERE slack_user_id = $1",
        user,
        other,
    )
    with pytest.raises(AuthFailure) as info:
        await rig.service.scope_for(job(other))
    assert info.value.reason == "token_invalid"
    wrong = PostgresLinkStore(pool=pg_pool, cipher=LinkCipher(key=SecretStr("another key entirely 12345")))
    from app.identity.links import LinkUnreadable

    with pytest.raises(LinkUnreadable):
        await wrong.get(user)


async def test_start_login_when_keycloak_down(rig: Rig) -> None:
    rig.kc.fail_next(1, status=503)
    text = await rig.service.command(job(slack_user(), command="login"))
    assert "can't reach Keycloak" in text


def token_posts(kc: KeycloakSim) -> int:
    return len([r for r in kc.requests if r[1].endswith("/token")])


async def test_concurrent_jobs_share_one_refresh(rig: Rig) -> None:
    user = slack_user()
    rig.kc.access_ttl = 40  # first token: stale (inside the 30 s margin) once 15 s have passed
    await login(rig, user, "vera")
    rig.kc.access_ttl = 300
    rig.clock.offset = 15
    before = token_posts(rig.kc)
    scopes = await asyncio.gather(*(rig.service.scope_for(job(user)) for _ in range(5)))
    assert all(s.namespaces == {"team-a"} for s in scopes)
    assert token_posts(rig.kc) - before == 1


async def test_two_workers_refreshing_at_once_both_succeed(
    rig: Rig, kc_client: KeycloakClient, pg_pool: asyncpg.Pool
) -> None:
    """Keycloak rotates refresh tokens (the simulator always does): without the cross-process
    lock the second worker would present a spent token and log the user out."""
    user = slack_user()
    await login(rig, user, "vera")
    verifier = TokenVerifier(
        jwks=JwksCache(fetch=kc_client.jwks), issuer=rig.kc.issuer, audience=rig.kc.audience
    )
    other_worker = DeviceFlowProvider(
        keycloak=kc_client,
        verifier=verifier,
        links=PostgresLinkStore(pool=pg_pool, cipher=LinkCipher(key=KEY)),
        clock=rig.clock,
    )
    rig.clock.offset = 400
    rig.kc.token_delay_s = 0.2  # both refresh requests are in flight at once unless serialised
    a, b = await asyncio.gather(rig.provider.identify(user), other_worker.identify(user))
    assert a.subject == b.subject == rig.kc.users["vera"].id
    assert await rig.links.get(user) is not None


async def test_logout_revokes_the_refresh_token_at_keycloak(rig: Rig) -> None:
    user = slack_user()
    await login(rig, user, "vera")
    link = await rig.links.get(user)
    assert link is not None
    await rig.service.command(job(user, command="logout"))
    assert link.refresh_token.get_secret_value() in rig.kc.revoked
    assert link.refresh_token.get_secret_value() not in rig.kc.refresh_tokens


async def test_no_token_or_secret_in_logs(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    user = slack_user()
    await login(rig, user, "vera")
    link = await rig.links.get(user)
    assert link is not None
    issued = [link.refresh_token.get_secret_value(), rig.kc.client_secret or "x"]
    rig.kc.fail_next(1, 503)
    rig.clock.offset = 400
    with pytest.raises(AuthFailure):
        await rig.service.scope_for(job(user))
    forged = rig.kc.mint({**rig.kc.access_claims(rig.kc.users["vera"]), "aud": "evil"})
    rig.provider._access[user] = (forged, time.time() + 10_000)
    rig.kc.revoke_refresh_tokens()
    with pytest.raises(AuthFailure):
        await rig.service.scope_for(job(user))
    code = await start_login(rig, user)
    rig.kc.deny(code)
    rig.ticker.tick()
    await asyncio.wait_for(rig.service.wait_logins(), 10)
    issued += [forged, code]
    assert caplog.records  # something was logged …
    for value in issued:  # … but never a token, a code or the client secret
        assert value not in caplog.text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from(["pending", "slow_down"]), max_size=6),
    st.sampled_from(["approve", "deny", "expire"]),
)
async def test_polling_honours_every_answer_sequence(rig: Rig, answers: list[str], end: str) -> None:
    """Whatever Keycloak answers while the user hesitates, the bot waits `interval` (+5 s per
    slow_down) between polls and ends exactly as the final answer says."""
    rig.ticker.requested.clear()
    rig.told.clear()
    user = slack_user()
    code = await start_login(rig, user)
    expected = [5.0]
    for answer in answers:
        if answer == "slow_down":
            rig.kc.slow_down(code)
        await poll(rig, code)
        expected.append(expected[-1] + (5 if answer == "slow_down" else 0))
    {
        "approve": lambda: rig.kc.approve(code, "vera"),
        "deny": lambda: rig.kc.deny(code),
        "expire": lambda: rig.kc.expire(code),
    }[end]()
    rig.ticker.tick()
    await asyncio.wait_for(rig.service.wait_logins(), 10)
    assert rig.ticker.requested == expected
    assert rig.kc.device(code).polls == len(answers) + 1
    (told,) = [text for who, text in rig.told if who == user]
    linked = await rig.links.get(user)
    if end == "approve":
        assert "logged in as *vera*" in told and linked is not None
    else:
        assert ("denied" if end == "deny" else "expired") in told and linked is None


async def test_logout_in_another_worker_takes_effect_at_once(
    rig: Rig, kc_client: KeycloakClient, pg_pool: asyncpg.Pool
) -> None:
    user = slack_user()
    await login(rig, user, "vera")
    await rig.service.scope_for(job(user))  # this worker now holds a cached access token
    verifier = TokenVerifier(
        jwks=JwksCache(fetch=kc_client.jwks), issuer=rig.kc.issuer, audience=rig.kc.audience
    )
    other_worker = DeviceFlowProvider(
        keycloak=kc_client,
        verifier=verifier,
        links=PostgresLinkStore(pool=pg_pool, cipher=LinkCipher(key=KEY)),
    )
    assert await other_worker.logout(user)
    with pytest.raises(AuthFailure) as info:
        await rig.service.scope_for(job(user))
    assert info.value.reason == "unlinked"
