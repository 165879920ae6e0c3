"""A device login outlives the worker that started it (issue 12, item 6).

Real `aiops worker` processes in device mode, the Keycloak and Slack simulators on loopback, real
Redis and PostgreSQL. Worker A gets `/aiops login`, shows the code and starts polling; it is
SIGKILLed; the user approves the code; worker B — which never saw the command — finds the login
in Redis once A's lease has lapsed, completes the link and DMs the user. The link is audited
once, and what Redis holds would not let anyone else finish the login.
"""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sim.keycloak import KeycloakSim
from tests.scenario.conftest import Harness, HarnessFactory

VIOLA = f"U0V{uuid.uuid4().hex[:8].upper()}"  # the session's database may hold other tests' links
DM = "D" + VIOLA[1:]


@pytest.fixture
async def keycloak() -> AsyncIterator[KeycloakSim]:
    async with KeycloakSim(interval=1) as kc:
        kc.add_user("viola", email="viola@example.com", namespaces=["shop"], roles=["viewer"])
        yield kc


def device_env(h: Harness, kc: KeycloakSim) -> dict[str, str]:
    secrets_dir = Path(h.env["AIOPS_SECRETS_DIR"])
    (secrets_dir / "keycloak_client_secret").write_text(kc.client_secret or "")
    (secrets_dir / "link_encryption_key").write_text("failover link encryption key, long enough")
    return {"AIOPS_IDENTITY_MODE": "device", "KEYCLOAK_URL": kc.base_url, "KEYCLOAK_REALM": kc.realm,
            "KEYCLOAK_CLIENT_ID": kc.client_id, "KEYCLOAK_AUDIENCE": kc.audience}


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


async def test_a_login_started_on_a_killed_worker_is_finished_by_another(
    make_harness: HarnessFactory, keycloak: KeycloakSim
) -> None:
    h = await make_harness(workers=0)  # the receiver only; the workers are processes
    h.slack.add_user(VIOLA, "viola", email="viola@example.com")
    env = device_env(h, keycloak)
    worker_a = h.spawn_cli("worker", extra_env=env)
    worker_b: subprocess.Popen[bytes] | None = None
    try:
        await h.sender.command(VIOLA, DM, "login")
        shown = await h.slack.wait_for(lambda: h.slack.ephemerals(DM, VIOLA), timeout=60, what="login code")
        (device,) = keycloak.devices.values()
        assert device.user_code in shown[0].text
        await h.slack.wait_for(lambda: device.polls > 0, timeout=15, what="worker A polling")

        state = await h.redis.hgetall(f"{h.prefix}:login:{VIOLA}")
        assert state and device.device_code.encode() not in repr(state).encode()  # sealed
        ttl = await h.redis.ttl(f"{h.prefix}:login:{VIOLA}")
        assert 0 < ttl <= keycloak.device_ttl  # gone when the code expires

        stop(worker_a, signal.SIGKILL)
        keycloak.approve(device.user_code, "viola")
        polls_by_a = device.polls
        worker_b = h.spawn_cli("worker", extra_env=env)

        dm = h.slack.dm_channel(VIOLA)
        await h.slack.wait_for(
            lambda: [m for m in h.slack.messages(dm) if "logged in as *viola*" in m.text],
            timeout=60, what="the login's DM from worker B",
        )
        assert device.polls > polls_by_a and device.state == "used"
        assert await h.pg.fetchval(
            "SELECT count(*) FROM identity_links WHERE slack_user_id = $1", VIOLA) == 1
        rows = await h.audit_rows("identity", user_id=VIOLA)
        assert [r["failure_reason"] for r in rows] == ["link"]
        assert len([m for m in h.slack.messages(dm) if "logged in as" in m.text]) == 1
        assert not await h.redis.exists(f"{h.prefix}:login:{VIOLA}", f"{h.prefix}:login:{VIOLA}:lease")
    finally:
        stop(worker_a, signal.SIGKILL)
        if worker_b is not None:
            stop(worker_b)
