"""The demo's world: people, the alert, settings and secrets, and the running app (`running_demo`).

`aiops demo`: the real bot, on embedded stores, against a simulated world.

What is real: the composition root (`build_runtime`), the HTTP app with Slack signature checks,
the Redis Stream queue and a worker, identity and channel scope, the tool router, the agent,
the audit log. What is simulated (the same simulators the tests use, over HTTP on 127.0.0.1):
the Slack workspace, the Kubernetes API (scenario `demo`: several faults at once), and — only
when no key is configured — nothing at all for Claude: the agent then answers in offline mode
from the deterministic analyzers, and says so.

The script: Alertmanager fires → a thread in #incidents; the on-call analyst asks a follow-up in
that thread; a viewer DMs the bot and then asks about a namespace outside their claims (refused);
the viewer runs `/aiops whoami`; the alert resolves → the same thread is updated. Then the
conversations are printed as Slack would show them, followed by the audit rows the run wrote.
`--interactive` then reads questions from stdin as a chosen user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets as pysecrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from aiops.api_server import build_api_runtime
from aiops.bootstrap import Runtime, build_runtime
from app.audit.migrate import migrate
from app.config import DEFAULT_SECRETS_DIR, Secrets, Settings, load_secrets, load_settings
from sim.keycloak import KeycloakSim
from sim.kubernetes import KubernetesSimulator
from sim.slack import SlackMessage, SlackSimulator
from sim.slack.render import blocks_text
from sim.slack_events import SlackEventSender

INCIDENTS = "C0INCIDENTS"
ANSWER_MARK = "audit ref"
ANSWER_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    roles: tuple[str, ...]
    namespaces: tuple[str, ...]

    @property
    def dm(self) -> str:
        return "D" + self.user_id[1:]

    def identity(self) -> dict[str, Any]:
        return {
            "slack_user_id": self.user_id,
            "sub": f"kc-{self.name}",
            "preferred_username": self.name,
            "aiops_namespaces": list(self.namespaces),
            "aiops_roles": list(self.roles),
        }


MALLORY = "U0MALLORY"  # in the Slack workspace, not in the identity file
PEOPLE = {
    "alice": Person("U0ALICE", "alice", ("analyst",), ("shop", "payments")),
    "vera": Person("U0VERA", "vera", ("viewer",), ("shop",)),
}


def alert(status: str) -> dict[str, Any]:
    """An Alertmanager v4 notification for the crash-looping `orders` pod of the scenario."""
    labels = {
        "alertname": "KubePodCrashLooping",
        "namespace": "shop",
        "pod": "orders-6c9f7d5b8-r4d2k",
        "severity": "critical",
    }
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "4",
        "groupKey": '{}:{alertname="KubePodCrashLooping", namespace="shop"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "aiops",
        "groupLabels": {"alertname": "KubePodCrashLooping", "namespace": "shop"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "Pod shop/orders-6c9f7d5b8-r4d2k is crash looping"},
        "externalURL": "http://alertmanager.demo:9093",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": "Pod shop/orders-6c9f7d5b8-r4d2k is crash looping"},
                "startsAt": now,
                "endsAt": now if status == "resolved" else "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.demo:9090/graph",
                "fingerprint": "d3m0c0ffee000001",
            }
        ],
    }


# ---- the world ---------------------------------------------------------------------------------


def _write_secrets(directory: Path, values: Mapping[str, str]) -> None:
    directory.mkdir(mode=0o700)
    for name, value in values.items():
        path = directory / name
        path.write_text(value + "\n")
        path.chmod(0o600)


def demo_environment(
    workdir: Path, *, slack: SlackSimulator, k8s: KubernetesSimulator, environ: Mapping[str, str]
) -> dict[str, str]:
    """The settings a real `aiops serve` would get in this world. Stores: the caller's
    DATABASE_URL/REDIS_URL/QDRANT_URL when set, else the embedded ones under AIOPS_DATA_DIR.
    Claude: the caller's `anthropic_api_key` secret file when it exists, else offline mode."""
    values = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": pysecrets.token_hex(16),
        "alertmanager_token": pysecrets.token_hex(16),
        "web_session_key": pysecrets.token_hex(32),
    }
    key_file = Path(environ.get("AIOPS_SECRETS_DIR", str(DEFAULT_SECRETS_DIR))) / "anthropic_api_key"
    with contextlib.suppress(OSError):
        if key := key_file.read_text().strip():
            values["anthropic_api_key"] = key
    _write_secrets(workdir / "secrets", values)
    (workdir / "identities.yaml").write_text(json.dumps([p.identity() for p in PEOPLE.values()]))
    (workdir / "channels.yaml").write_text(json.dumps({INCIDENTS: ["shop", "payments"]}))
    env = {
        "SLACK_API_URL": slack.base_url,
        "AIOPS_SECRETS_DIR": str(workdir / "secrets"),
        "AIOPS_ENV": "dev",
        "AIOPS_IDENTITY_MODE": "static",
        "AIOPS_STATIC_IDENTITIES": str(workdir / "identities.yaml"),
        "AIOPS_CHANNEL_SCOPES": str(workdir / "channels.yaml"),
        "AIOPS_INCIDENT_CHANNEL": INCIDENTS,
        "AIOPS_AGENT_VERSION": "demo",
        # a fresh stream/session namespace per run, so an earlier run's leftovers never replay
        "AIOPS_REDIS_PREFIX": f"aiops-demo-{pysecrets.token_hex(4)}",
        "KUBECONFIG": str(k8s.write_kubeconfig(workdir / "kubeconfig")),
    }
    passthrough = (
        "DATABASE_URL",
        "REDIS_URL",
        "QDRANT_URL",
        "PROMETHEUS_URL",
        "AIOPS_DATA_DIR",
        "ANTHROPIC_BASE_URL",
        "AIOPS_MODEL",
    )
    env.update({k: environ[k] for k in passthrough if environ.get(k)})
    return env


@dataclass
class DemoApp:
    """The running bot plus the simulated people and services around it."""

    runtime: Runtime
    slack: SlackSimulator
    sender: SlackEventSender
    url: str
    alert_token: str
    started_at: datetime
    api_url: str = ""
    """The REST API and Web UI (log in as a demo person, password `password`)."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    answered: list[str] = field(default_factory=list)
    """Audit ids of the answers seen so far."""

    async def post_alert(self, payload: dict[str, Any]) -> int:
        async with (
            aiohttp.ClientSession() as s,
            s.post(
                self.url + "alerts/alertmanager",
                json=payload,
                headers={"Authorization": f"Bearer {self.alert_token}"},
            ) as resp,
        ):
            return resp.status

    async def answer(self, channel: str, thread_ts: str, *, after: int = 0) -> SlackMessage:
        """The bot's answer in the thread: the `after`-th reply that carries an audit reference."""

        def found() -> SlackMessage | None:
            answers = [m for m in self.slack.bot_replies(channel, thread_ts) if ANSWER_MARK in visible(m)]
            return answers[after] if len(answers) > after else None

        msg = await self.slack.wait_for(
            found, timeout=ANSWER_TIMEOUT_S, what=f"an answer in {channel}/{thread_ts}"
        )
        self.answered.append(audit_ref(msg))
        return msg

    async def audited(self) -> None:
        """Wait until every answer seen so far has its audit row (written right after posting)."""
        ids = sorted(set(self.answered))
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            while True:  # rows live in Postgres: nothing to subscribe to, so poll briefly
                found = await self.runtime.stores.pg.fetchval(
                    "SELECT count(*) FROM audit_events WHERE id = ANY($1::uuid[])", ids
                )
                if found == len(ids):
                    return
                await asyncio.sleep(0.05)


def visible(message: SlackMessage) -> str:
    """What a person sees: the text plus the blocks' text (answer body, footer, audit ref)."""
    return "\n".join(x for x in (message.text, blocks_text(message.blocks)) if x)


def audit_ref(message: SlackMessage) -> str:
    """The audit id the answer shows after "audit ref"."""
    return visible(message).rsplit(ANSWER_MARK, 1)[1].split("`")[1]


@contextlib.asynccontextmanager
async def running_demo(environ: Mapping[str, str]) -> AsyncIterator[DemoApp]:
    async with contextlib.AsyncExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="aiops-demo-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        slack = await stack.enter_async_context(
            SlackSimulator(bot_token=f"xoxb-demo-{pysecrets.token_hex(12)}")
        )
        for p in PEOPLE.values():
            slack.add_user(p.user_id, p.name, email=f"{p.name}@example.com")
        slack.add_user(MALLORY, "mallory", email="mallory@example.com")
        slack.add_channel(INCIDENTS, "incidents")
        k8s = await stack.enter_async_context(KubernetesSimulator(scenario="demo", live_clock=True))
        settings = load_settings(demo_environment(workdir, slack=slack, k8s=k8s, environ=environ))
        secrets = load_secrets(settings.secrets_dir)
        runtime = await build_runtime(settings, secrets)
        stack.push_async_callback(runtime.aclose)
        if "postgres" not in runtime.stores.embedded:  # a given DATABASE_URL: migrate it too
            async with runtime.stores.pg.acquire() as conn:
                await migrate(conn)
        runner = web.AppRunner(runtime.web_app(), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        app = DemoApp(
            runtime=runtime,
            slack=slack,
            sender=SlackEventSender(
                url=url + "slack/events",
                signing_secret=secrets.slack_signing_secret.get_secret_value(),
                sim=slack,
            ),
            url=url,
            alert_token=secrets.alertmanager_token.get_secret_value(),
            started_at=await runtime.stores.pg.fetchval("SELECT now()"),
        )
        app.api_url = await _start_api(stack, settings, secrets, runtime)
        worker = asyncio.create_task(runtime.worker(concurrency=4).run(app.stop))
        try:
            yield app
        finally:
            app.stop.set()
            await asyncio.wait([worker], timeout=10)
            worker.cancel()


async def _start_api(
    stack: contextlib.AsyncExitStack, settings: Settings, secrets: Secrets, runtime: Runtime
) -> str:
    """The REST API and Web UI beside the bot, on the same stores, with a simulated Keycloak whose
    users are the demo's people (same subjects as their Slack identities; password `password`)."""
    kc = await stack.enter_async_context(KeycloakSim(interval=2))
    for person in PEOPLE.values():
        user = kc.add_user(
            person.name,
            email=f"{person.name}@example.com",
            namespaces=list(person.namespaces),
            roles=list(person.roles),
        )
        user.id = f"kc-{person.name}"
    api_settings = settings.model_copy(
        update={"keycloak_url": kc.base_url, "keycloak_realm": kc.realm, "keycloak_audience": kc.audience}
    )
    api = await build_api_runtime(api_settings, secrets, stores=runtime.stores)
    stack.push_async_callback(api.aclose)
    runner = web.AppRunner(api.app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return f"http://127.0.0.1:{runner.addresses[0][1]}"
