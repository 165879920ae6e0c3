"""`aiops demo` (what `make demo` runs) as a real process: the scripted incident end to end, on
embedded stores like a fresh machine, and `--interactive` on the machine's servers."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import REDIS_URL

REPO = Path(__file__).resolve().parents[1]
ROOT_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"  # sbin: as root, pgserver adds its own user (useradd)


def run_demo(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiops.cli", "demo", *args],
        cwd=REPO,
        env={"PATH": ROOT_PATH, "PYTHONPATH": str(REPO), "HOME": str(env["HOME"]), **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def audit_lines(stdout: str) -> list[str]:
    return stdout.split("audit_events written by this run", 1)[1].splitlines()[1:]


@pytest.mark.slow
def test_demo_plays_the_incident_on_embedded_stores(tmp_path: Path) -> None:
    # No DATABASE_URL / REDIS_URL and no Anthropic key: exactly a fresh `make demo`.
    env = {"HOME": str(tmp_path), "AIOPS_DATA_DIR": str(tmp_path / "data"),
           "AIOPS_SECRETS_DIR": str(tmp_path / "none")}
    done = run_demo(env)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "embedded stores: postgres, redis" in out
    assert "OFFLINE MODE — no Anthropic key" in out  # said plainly
    incidents = out.split("#incidents", 1)[1].split("#D0VERA", 1)[0]
    # the alert thread: root updated to RESOLVED, triage names the planted fault, follow-up answered
    assert "*RESOLVED* — *KubePodCrashLooping* in `shop`" in incidents
    assert "orders-6c9f7d5b8-r4d2k is crash-looping" in incidents
    assert "alice: <@U0AIOPS> anything else broken in payments?" in incidents
    # the unknown user is refused privately (issue 11) with a way out, and sees no data
    mallory = out.split("(only visible to mallory)", 1)[1].split("(only visible", 1)[0]
    assert "identity file" in mallory and "crash-looping" not in mallory
    # whoami: private, the viewer's real scope in this channel
    assert "(only visible to vera) *You are* `vera`" in out and "*Roles:* viewer" in out
    # vera's DM is answered for her namespace only (payments findings would be a leak)
    dm = out.split("#D0VERA", 1)[1].split("audit_events written", 1)[0]
    assert "for shop;" in dm and "ledger-data" not in dm
    rows = audit_lines(out)
    kinds = [(r.split()[1], r.split()[2]) for r in rows]
    assert ("query", "kc-alice") in kinds and ("query", "kc-vera") in kinds
    assert ("auth_failure", "U0MALLORY") in kinds
    assert kinds.count(("query", "alertmanager")) == 2  # firing triage + resolved update
    assert any(k == "tool_call" for k, _ in kinds)
    # every answer's audit reference is one of the rows printed
    refs = set(re.findall(r"audit ref: `([0-9a-f]{8})", out))
    assert refs and refs <= {r.split()[3] for r in rows}


@pytest.mark.slow
def test_interactive_demo_answers_as_the_chosen_user(tmp_path: Path, pg_dsn: str) -> None:
    env = {"HOME": str(tmp_path), "AIOPS_DATA_DIR": str(tmp_path / "data"),
           "AIOPS_SECRETS_DIR": str(tmp_path / "none"), "DATABASE_URL": pg_dsn, "REDIS_URL": REDIS_URL}
    typed = "\n".join(["what is failing in payments?", "as nobody", "as vera", "/aiops whoami",
                       "what is failing?", ""])
    done = run_demo(env, "--interactive", "--as", "alice", stdin=typed + "\n")
    assert done.returncode == 0, done.stdout + done.stderr
    session = done.stdout.split("Type a question", 1)[1]
    assert "embedded stores: none" in done.stdout  # the given servers were used
    alice_part, vera_part = session.split("vera> ", 1)
    assert "ledger-data" in alice_part  # alice (payments in her claims) sees the pending PVC
    assert "no such demo user 'nobody'" in alice_part
    assert "*Roles:* viewer" in vera_part  # /aiops whoami as vera
    # vera's own question: shop only, never payments data
    last = vera_part.rsplit("vera> ", 1)[0]
    assert "for shop;" in last and "ledger-data" not in vera_part


async def test_demo_also_serves_the_api_and_web_ui(tmp_path: Path, pg_dsn: str) -> None:
    """The demo's API/UI share the bot's stores; a demo person logs in through the simulated Keycloak's
    form and reaches the UI (the full browser flow is tests/scenario/test_web_ui.py)."""
    from sim.demo import running_demo

    env = {"HOME": str(tmp_path), "AIOPS_DATA_DIR": str(tmp_path / "data"),
           "AIOPS_SECRETS_DIR": str(tmp_path / "none"), "DATABASE_URL": pg_dsn, "REDIS_URL": REDIS_URL}
    async with running_demo(env) as app:
        # Secure cookies over loopback http, as browsers treat 127.0.0.1 (a potentially trustworthy origin)
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[app.api_url])
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            await _log_in_as_vera(app.api_url, http)


async def _log_in_as_vera(api_url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(api_url + "/api/v1/openapi.json") as resp:
        assert resp.status == 200 and (await resp.json())["info"]["title"] == "aiops REST API"
    async with http.get(api_url + "/login") as resp:
        form = await resp.text()
        assert resp.status == 200 and "kc-form-login" in form  # Keycloak's login form
        action = str(resp.url)
    fields = {**dict(_hidden(form)), "username": "vera", "password": "password"}
    async with http.post(action, data=fields) as resp:
        assert resp.status == 200 and str(resp.url) == api_url + "/"
    async with http.get(api_url + "/ui/api/whoami") as resp:
        me = await resp.json()
        assert me["username"] == "vera" and me["sub"] == "kc-vera" and me["namespaces"] == ["shop"]


def _hidden(page: str) -> list[tuple[str, str]]:
    found = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return [(name, html.unescape(value)) for name, value in found]
