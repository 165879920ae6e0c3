"""Identity end to end through Slack: the real app (composition root, worker, agent, tool router)
with the Slack, Anthropic, Kubernetes and Keycloak simulators, real PostgreSQL and Redis.

- a viewer asking about a namespace outside its claims is refused with an explanation, a
  `security` audit row is written, and the model never receives that namespace's data;
- an admin in a channel scoped to one namespace sees only that namespace;
- `/aiops whoami` for each role;
- a user who is not linked (device mode) is told how to link, logs in, and is then answered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from aiops.bootstrap import build_runtime
from app.audit.log import PostgresAuditLog
from app.config import load_secrets, load_settings
from app.identity.factory import build_identity_service
from kernel.metrics import Metrics
from sim.anthropic import SimReply
from sim.keycloak import KeycloakSim
from sim.slack import SlackSimulator
from sim.slack_events import SlackEventSender
from tests.fixtures.kubernetes import ClusterFactory, SimCluster, k8s_cluster  # noqa: F401
from tests.scenario.conftest import IDENTITIES, Harness, HarnessFactory, audit_ref, visible

VIEWER, ANALYST, ADMIN = "U0VIOLA", "U0ANDY", "U0ADA"
SHOP_CHANNEL = "C0SHOP"
PEOPLE = [
    {
        "slack_user_id": VIEWER,
        "sub": "kc-viola",
        "preferred_username": "viola",
        "aiops_namespaces": ["shop"],
        "aiops_roles": ["viewer"],
    },
    {
        "slack_user_id": ANALYST,
        "sub": "kc-andy",
        "preferred_username": "andy",
        "aiops_namespaces": ["payments"],
        "aiops_roles": ["analyst"],
    },
    {
        "slack_user_id": ADMIN,
        "sub": "kc-ada",
        "preferred_username": "ada",
        "aiops_namespaces": [],
        "aiops_roles": ["admin"],
    },
]
PAYMENTS_DATA = ("payments-api", "payments-db")  # object names that exist only in `payments`


@pytest.fixture
async def cluster(k8s_cluster: ClusterFactory) -> SimCluster:  # noqa: F811
    return await k8s_cluster("healthy")


def write_identity_files(env: dict[str, str], folder: Path) -> None:
    Path(env["AIOPS_STATIC_IDENTITIES"]).write_text(json.dumps(IDENTITIES + PEOPLE))
    scopes = folder / "channels.yaml"
    scopes.write_text(f"{SHOP_CHANNEL}: [shop]\n")
    env["AIOPS_CHANNEL_SCOPES"] = str(scopes)


@pytest.fixture
async def identity_harness(
    make_harness: HarnessFactory,
    scenario_env: dict[str, str],
    tmp_path: Path,
    cluster: SimCluster,
    slack_sim: SlackSimulator,
) -> Harness:
    for person in PEOPLE:
        slack_sim.add_user(str(person["slack_user_id"]), str(person["preferred_username"]))
    await asyncio.to_thread(write_identity_files, scenario_env, tmp_path)
    scenario_env["KUBECONFIG"] = str(cluster.kubeconfig)
    return await make_harness()


def model_saw(h: Harness) -> str:
    return json.dumps(h.anthropic.requests)


def tool_results(h: Harness) -> list[dict[str, Any]]:
    out = []
    for req in h.anthropic.requests:
        for msg in req.get("messages", []):
            if isinstance(msg.get("content"), list):
                out += [b for b in msg["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
    return out


async def test_viewer_outside_claims_is_refused_and_model_gets_no_data(
    identity_harness: Harness, cluster: SimCluster
) -> None:
    h = identity_harness
    h.anthropic.script(
        [
            SimReply(tool_uses=[("k8s_list", {"kind": "pod", "namespace": "payments"})]),
            SimReply(text="You may not see the payments namespace; ask someone with access."),
        ]
    )
    sent = await h.sender.dm(VIEWER, "D0VIOLA", "which pods run in payments?")
    answer = await h.wait_answer("D0VIOLA", sent.payload["event"]["ts"])  # type: ignore[index]
    assert "payments namespace" in visible(answer)
    results = tool_results(h)
    assert len(results) == 1 and results[0].get("is_error") is True
    assert "scope" in json.dumps(results[0]).lower()
    for name in PAYMENTS_DATA:
        assert name not in model_saw(h)
    assert "payments" not in cluster.namespaced_paths()  # the API server was never asked
    security = await h.audit_rows("security", user_id="kc-viola")
    assert security and {r["namespace"] for r in security} == {"payments"}
    query = await h.wait_audit_row(audit_ref(answer))
    assert query["user_id"] == "kc-viola"


async def test_admin_in_scoped_channel_sees_only_the_channel(
    identity_harness: Harness, cluster: SimCluster
) -> None:
    h = identity_harness
    h.anthropic.script(
        [
            SimReply(
                tool_uses=[
                    ("k8s_list", {"kind": "pod"}),
                    ("k8s_list", {"kind": "pod", "namespace": "payments"}),
                ]
            ),
            SimReply(text="Here is what this channel may see."),
        ]
    )
    sent = await h.sender.mention(ADMIN, SHOP_CHANNEL, "list every pod in the cluster")
    await h.wait_answer(SHOP_CHANNEL, sent.payload["event"]["ts"])  # type: ignore[index]
    results = sorted(tool_results(h), key=lambda r: bool(r.get("is_error")))
    assert [bool(r.get("is_error")) for r in results] == [False, True]
    seen = json.dumps(results[0])
    assert "checkout" in seen  # shop's pods are there …
    for name in PAYMENTS_DATA:  # … payments' are not, neither listed nor fetched
        assert name not in model_saw(h)
    assert cluster.namespaced_paths() <= {"shop"} and cluster.cluster_wide_lists() == []
    tools_offered = {t["name"] for t in h.anthropic.requests[0].get("tools", [])}
    assert "k8s_list" in tools_offered


@pytest.mark.parametrize(
    "user, expected",
    [
        (VIEWER, ["`viola`", "viewer", "*Recommendations:* no", "`shop`"]),
        (ANALYST, ["`andy`", "analyst", "*Recommendations:* yes", "`payments`"]),
        (ADMIN, ["`ada`", "admin", "*Scheduled jobs:* yes", "*Your namespaces:* all namespaces"]),
    ],
)
async def test_whoami_per_role(identity_harness: Harness, user: str, expected: list[str]) -> None:
    h = identity_harness
    assert (await h.sender.command(user, SHOP_CHANNEL, "whoami")).status == 200
    eph = await h.slack.wait_for(lambda: h.slack.ephemerals(SHOP_CHANNEL, user), timeout=15)
    text = eph[0].text
    for fragment in expected:
        assert fragment in text
    assert "(scoped to `shop`)" in text


async def test_analyst_in_channel_of_other_namespace_is_told_why(identity_harness: Harness) -> None:
    h = identity_harness
    sent = await h.sender.mention(ANALYST, SHOP_CHANNEL, "how is payments doing?")
    ts = sent.payload["event"]["ts"]  # type: ignore[index]
    reply = await h.slack.wait_for(lambda: h.slack.ephemerals(SHOP_CHANNEL, ANALYST), timeout=15)
    text = visible(reply[0])
    assert reply[0].thread_ts == ts and h.slack.bot_replies(SHOP_CHANNEL, ts) == []
    assert "limited to `shop`" in text and "`payments`" in text and "DM" in text
    rows = await h.audit_rows("auth_failure", user_id=ANALYST)
    assert [r["failure_reason"] for r in rows] == ["out_of_scope"]
    assert h.anthropic.requests == []  # the model was never asked
    metrics = h.runtime.metrics.render().decode()  # the counter behind the failed-login spike alert
    assert 'aiops_auth_failures_total{reason="out_of_scope"} 1.0' in metrics


# --- device mode: unlinked → /aiops login → answered ---------------------------------------
@pytest.fixture
async def keycloak() -> AsyncIterator[KeycloakSim]:
    async with KeycloakSim(interval=1) as kc:
        kc.add_user("viola", email="viola@example.com", namespaces=["shop"], roles=["viewer"])
        yield kc


@pytest.fixture
async def device_harness(
    scenario_env: dict[str, str],
    secret_values: dict[str, str],
    keycloak: KeycloakSim,
    pg_pool: asyncpg.Pool,
    make_harness: HarnessFactory,
    tmp_path: Path,
) -> AsyncIterator[Harness]:
    """The app in device mode. Built like `make_harness`, but with the identity service from
    `build_identity_service` passed to build_runtime (until bootstrap builds it itself)."""
    env = {k: v for k, v in scenario_env.items() if k != "AIOPS_STATIC_IDENTITIES"}
    env |= {
        "AIOPS_IDENTITY_MODE": "device",
        "KEYCLOAK_URL": keycloak.base_url,
        "KEYCLOAK_REALM": keycloak.realm,
        "KEYCLOAK_CLIENT_ID": keycloak.client_id,
        "KEYCLOAK_AUDIENCE": keycloak.audience,
    }
    secrets_dir = Path(env["AIOPS_SECRETS_DIR"])
    (secrets_dir / "keycloak_client_secret").write_text(keycloak.client_secret or "")
    (secrets_dir / "link_encryption_key").write_text("e2e link encryption key, long enough")
    settings = load_settings(env)
    secrets = load_secrets(settings.secrets_dir)
    metrics = Metrics()
    slack = AsyncWebClient(base_url=settings.slack_api_url, token=secrets.slack_bot_token.get_secret_value())
    identity = build_identity_service(
        settings,
        secrets,
        audit=PostgresAuditLog(pool=pg_pool, agent_version="test-sha"),
        metrics=metrics,
        pool=pg_pool,
        slack=slack,
    )
    runtime = await build_runtime(settings, secrets, identity=identity, metrics=metrics)
    runner = web.AppRunner(runtime.web_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    base = await make_harness(workers=0)  # reuse its simulators and stores
    h = Harness(
        url=url,
        runtime=runtime,
        slack=base.slack,
        anthropic=base.anthropic,
        sender=SlackEventSender(
            url=url + "slack/events", signing_secret=secret_values["slack_signing_secret"], sim=base.slack
        ),
        env=env,
        secrets=secret_values,
        pg=pg_pool,
        redis=base.redis,
        prefix=base.prefix,
        started_at=await pg_pool.fetchval("SELECT now()"),
    )
    h.start_worker(claim_idle_ms=1500)
    try:
        yield h
    finally:
        h.stop.set()
        await asyncio.wait(h.workers, timeout=10)
        await runner.cleanup()
        await runtime.aclose()


async def test_unlinked_user_is_told_to_log_in_then_logs_in(
    device_harness: Harness, keycloak: KeycloakSim
) -> None:
    h = device_harness
    h.slack.add_user(VIEWER, "viola", email="viola@example.com")
    sent = await h.sender.dm(VIEWER, "D0VIOLA", "how is the shop?")
    ts = sent.payload["event"]["ts"]  # type: ignore[index]
    reply = await h.slack.wait_for(lambda: h.slack.bot_replies("D0VIOLA", ts), timeout=15)
    assert "`/aiops login`" in visible(reply[0])
    assert [r["failure_reason"] for r in await h.audit_rows("auth_failure", user_id=VIEWER)] == ["unlinked"]
    assert h.anthropic.requests == []

    await h.sender.command(VIEWER, "D0VIOLA", "login")
    eph = await h.slack.wait_for(lambda: h.slack.ephemerals("D0VIOLA", VIEWER), timeout=15)
    (device,) = keycloak.devices.values()
    assert device.user_code in eph[0].text and keycloak.issuer in eph[0].text
    keycloak.approve(device.user_code, "viola")
    dm = h.slack.dm_channel(VIEWER)
    done = await h.slack.wait_for(
        lambda: [m for m in h.slack.messages(dm) if "logged in as *viola*" in m.text], timeout=15
    )
    assert done

    h.anthropic.script([SimReply(text="The shop looks fine.")])
    sent = await h.sender.dm(VIEWER, "D0VIOLA", "and now?")
    answer = await h.wait_answer("D0VIOLA", sent.payload["event"]["ts"])  # type: ignore[index]
    row = await h.wait_audit_row(audit_ref(answer))
    assert row["user_id"] == keycloak.users["viola"].id


async def test_a_code_approved_by_someone_else_links_nobody(
    device_harness: Harness, keycloak: KeycloakSim
) -> None:
    """Issue 11 item 4: Mallory gets an admin to approve her device code — she is not linked as
    the admin; the refusal is audited and she is told to sign in with her own account."""
    h = device_harness
    keycloak.add_user("ada", email="ada@example.com", namespaces=[], roles=["admin"])
    h.slack.add_user("U0MALLORY", "mallory", email="mallory@example.com")
    await h.sender.command("U0MALLORY", "D0MALLORY", "login")
    await h.slack.wait_for(lambda: h.slack.ephemerals("D0MALLORY", "U0MALLORY"), timeout=15)
    (device,) = keycloak.devices.values()
    keycloak.approve(device.user_code, "ada")
    dm = h.slack.dm_channel("U0MALLORY")
    refused = await h.slack.wait_for(
        lambda: [m for m in h.slack.messages(dm) if "isn't yours" in m.text], timeout=15
    )
    assert refused
    assert await h.pg.fetchval("SELECT count(*) FROM identity_links WHERE slack_user_id = 'U0MALLORY'") == 0
    rows = await h.audit_rows("identity", user_id="U0MALLORY")
    assert [r["failure_reason"] for r in rows] == ["link_refused:email_mismatch"]
    sent = await h.sender.dm("U0MALLORY", "D0MALLORY", "show me everything")
    reply = await h.slack.wait_for(
        lambda: h.slack.bot_replies("D0MALLORY", sent.payload["event"]["ts"]), timeout=15
    )
    assert "`/aiops login`" in visible(reply[0])  # still unlinked
    assert h.anthropic.requests == []
