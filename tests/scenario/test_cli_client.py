"""`aiops login | ask | whoami | logout` as a person runs them: real processes against the running
API, workers and the Keycloak simulator's device flow, with nothing configured but AIOPS_API_URL."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import sys
from pathlib import Path

from sim.anthropic import SimReply
from tests.fixtures.kubernetes import k8s_cluster  # noqa: F401  (fixture)
from tests.scenario.api_fixtures import Api, api_fixture, keycloak_fixture  # noqa: F401  (fixtures)

AIOPS = str(Path(sys.executable).with_name("aiops"))


def client_env(api: Api, home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "PYTHONPATH")}
    return keep | {"AIOPS_API_URL": api.url, "XDG_CONFIG_HOME": str(home), "HOME": str(home)}


async def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        AIOPS, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def login(api: Api, env: dict[str, str], username: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        AIOPS, "login", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode()
    code = re.search(r"confirm the code (\S+)\.", line)
    assert code, line
    api.kc.approve(code.group(1), username)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()
    assert "Logged in." in out.decode()


async def test_login_ask_whoami_logout_as_processes(api: Api, tmp_path: Path) -> None:
    env = client_env(api, tmp_path)
    await login(api, env, "ana")
    token_file = tmp_path / "aiops" / "token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert set(json.loads(token_file.read_text())) >= {"access_token", "refresh_token", "expires_at"}

    code, out, err = await run(env, "whoami")
    assert code == 0 and "ana (analyst)" in out and "payments, shop" in out, err

    api.harness.anthropic.script([
        SimReply(text="Checking.", tool_uses=[("k8s_list", {"kind": "pod", "namespace": "shop"})]),
        SimReply(text="shop is healthy."),
    ])
    code, out, err = await run(env, "ask", "how is shop doing?", "--namespace", "shop")
    assert code == 0, err
    assert "shop is healthy." in out and "Evidence:" in out
    audit_id = re.search(r"audit id: ([0-9a-f-]{36})", out)
    assert audit_id
    row = await api.harness.wait_audit_row(audit_id.group(1))
    assert row["user_id"] == api.kc.users["ana"].id and row["user_message"] == "how is shop doing?"

    code, out, err = await run(env, "ask", "payments?", "--namespace", "kube-system")
    assert code == 1 and "cannot see namespace kube-system" in err

    code, out, _ = await run(env, "logout")
    assert code == 0 and not token_file.exists()
    code, _, err = await run(env, "whoami")
    assert code == 2 and "not logged in" in err


async def test_client_needs_only_the_api_url(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    code, _, err = await run(env, "whoami")
    assert code == 2 and "AIOPS_API_URL" in err and len(err.strip().splitlines()) == 1
    code, _, err = await run(env | {"AIOPS_API_URL": "http://127.0.0.1:9"}, "ask", "x")
    assert code == 2 and "not logged in" in err
