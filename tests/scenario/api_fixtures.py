"""The REST API over real HTTP beside the scenario harness: Keycloak simulator (JWKS, device flow,
public client), the API process's app on 127.0.0.1, and in-process workers with the Anthropic and
Kubernetes simulators — the same queue, router and audit as Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aiops.api_server import build_api_runtime
from app.config import load_secrets, load_settings
from sim.keycloak import KeycloakSim
from tests.fixtures.kubernetes import ClusterFactory
from tests.scenario.conftest import Harness, HarnessFactory


@dataclass
class Api:
    url: str
    kc: KeycloakSim
    harness: Harness
    http: aiohttp.ClientSession

    def token(self, username: str, **extra: Any) -> str:
        return self.kc.token_for(username, **extra)

    async def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> tuple[int, Any, Any]:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, self.url + path, headers=headers, **kw) as resp:
            text = await resp.text()
            try:
                import json

                body: Any = json.loads(text)
            except ValueError:
                body = text
            return resp.status, body, resp.headers


@pytest.fixture(name="keycloak")
async def keycloak_fixture() -> AsyncIterator[KeycloakSim]:
    async with KeycloakSim(interval=1) as kc:
        kc.add_user("sam", namespaces=["shop"], roles=["viewer"])
        kc.add_user("ana", namespaces=["shop", "payments"], roles=["analyst"])
        kc.add_user("root", namespaces=[], roles=["admin"])
        kc.add_user("nobody", namespaces=["shop"], roles=[])
        yield kc


@pytest.fixture(name="api")
async def api_fixture(
    make_harness: HarnessFactory,
    scenario_env: dict[str, str],
    keycloak: KeycloakSim,
    k8s_cluster: ClusterFactory,
) -> AsyncIterator[Api]:
    cluster = await k8s_cluster("healthy")
    env = scenario_env | {
        "KUBECONFIG": str(cluster.kubeconfig),
        "KEYCLOAK_URL": keycloak.base_url,
        "KEYCLOAK_REALM": keycloak.realm,
        "KEYCLOAK_AUDIENCE": keycloak.audience,
        "AIOPS_API_ASK_PER_MINUTE": "5",
    }
    harness = await make_harness(env=env)
    secrets_dir = Path(env["AIOPS_SECRETS_DIR"])
    (secrets_dir / "web_session_key").write_text("a web session key for the tests, long enough\n")
    settings = load_settings(env)
    runtime = await build_api_runtime(settings, load_secrets(secrets_dir, required=()), answer_timeout_s=30)
    runner = web.AppRunner(runtime.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    async with aiohttp.ClientSession() as http:
        yield Api(url=url, kc=keycloak, harness=harness, http=http)
    await runner.cleanup()
    await runtime.aclose()
