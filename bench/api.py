"""REST API overhead and audit browsing at scale.

1. Authentication + routing: `GET /api/v1/whoami` (RS256 verification against a cached JWKS, claim
   checks, rate-limit round trip, routing, JSON) against a bare aiohttp handler on the same server, in
   the same run: the p50/p95 difference is what the API adds to every request (target ≤ 2 ms p95).
2. A question end to end with an instant model: `POST /api/v1/ask` (JSON) vs the same question as a
   signed Slack mention answered in the simulated thread — same workers, same queue.
3. `GET /api/v1/audit` with filters over 1,000,000 audit rows (target p95 ≤ 100 ms: indexes).

Uses the machine's PostgreSQL and Redis (a throw-away database, dropped afterwards).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiops.api_server import build_api_runtime  # noqa: E402
from aiops.bootstrap import build_runtime  # noqa: E402
from app.agent.base import AgentAnswer  # noqa: E402
from app.audit.migrate import migrate  # noqa: E402
from app.config import load_secrets, load_settings  # noqa: E402
from sim.keycloak import KeycloakSim  # noqa: E402
from sim.slack import SlackSimulator  # noqa: E402
from sim.slack_events import SlackEventSender  # noqa: E402

ADMIN_DSN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
N_AUTH, N_ASK, N_AUDIT, AUDIT_ROWS = 400, 40, 200, 1_000_000


class InstantAgent:
    async def answer(self, job, scope, history, surface):  # type: ignore[no-untyped-def]
        return AgentAnswer(text=f"instant answer for {scope.user_id}")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def line(name: str, ms: list[float]) -> str:
    return f"  {name:<44} p50 {pct(ms, 50):7.2f} ms   p95 {pct(ms, 95):7.2f} ms   (n={len(ms)})"


async def timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def main() -> None:
    db = f"aiops_bench_api_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{db}"')
    dsn = ADMIN_DSN.rpartition("/")[0] + "/" + db
    try:
        await run(dsn)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


async def run(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    await migrate(conn)
    work = Path(tempfile.mkdtemp(prefix="aiops-bench-api-"))
    async with SlackSimulator(scopes="all") as slack, KeycloakSim() as kc:
        kc.add_user("ana", namespaces=["shop"], roles=["analyst"])
        root = kc.add_user("root", roles=["admin"])
        secrets_dir = work / "secrets"
        secrets_dir.mkdir()
        for name, value in {"slack_bot_token": slack.bot_token, "slack_signing_secret": "s" * 32,
                            "alertmanager_token": "a" * 32}.items():
            (secrets_dir / name).write_text(value)
        ids = work / "ids.yaml"
        ids.write_text('[{"slack_user_id": "U1", "sub": "kc-u1", "aiops_roles": ["analyst"], '
                       '"aiops_namespaces": ["shop"]}]')
        env = {"SLACK_API_URL": slack.base_url, "DATABASE_URL": dsn, "REDIS_URL": REDIS_URL,
               "AIOPS_REDIS_PREFIX": f"bench-api-{uuid.uuid4().hex[:6]}",
               "AIOPS_SECRETS_DIR": str(secrets_dir),
               "AIOPS_ENV": "dev", "AIOPS_IDENTITY_MODE": "static", "AIOPS_STATIC_IDENTITIES": str(ids),
               "KEYCLOAK_URL": kc.base_url, "AIOPS_API_ASK_PER_MINUTE": "100000",
               "AIOPS_API_READ_PER_MINUTE": "100000", "AIOPS_DATA_DIR": str(work / "data"),
               "AIOPS_CHANNEL_DEFAULT": "own"}  # the Slack baseline asks in an unlisted channel
        slack.add_user("U1", "u1", email="u1@example.com")
        settings = load_settings(env)
        runtime = await build_runtime(settings, load_secrets(secrets_dir), agent=InstantAgent())
        api = await build_api_runtime(settings, runtime.secrets, stores=runtime.stores)

        async def bare(_r: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        api.app.router.add_get("/bare", bare)
        stop = asyncio.Event()
        worker = asyncio.create_task(runtime.worker(concurrency=4).run(stop))
        runners = []
        urls = []
        for app in (api.app, runtime.web_app()):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            runners.append(runner)
            urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
        api_url, slack_url = urls
        token = kc.token_for("ana")
        auth = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as http:
            async def get(path: str, headers: dict[str, str] | None = None) -> None:
                async with http.get(api_url + path, headers=headers) as r:
                    assert r.status == 200, (path, r.status, await r.text())
                    await r.read()

            await timed(lambda: get("/api/v1/whoami", auth), 50)  # warm-up (JWKS fetched once)
            bare_ms = await timed(lambda: get("/bare"), N_AUTH)
            auth_ms = await timed(lambda: get("/api/v1/whoami", auth), N_AUTH)
            print("== bench/api: authentication + routing (same server, same run)")
            print(line("bare aiohttp handler", bare_ms))
            print(line("GET /api/v1/whoami (JWT + claims + rate limit)", auth_ms))
            print(f"  overhead: p50 +{pct(auth_ms, 50) - pct(bare_ms, 50):.2f} ms, "
                  f"p95 +{pct(auth_ms, 95) - pct(bare_ms, 95):.2f} ms (target ≤ 2 ms p95)")

            async def ask_api() -> None:
                body = {"question": "status?"}
                async with http.post(api_url + "/api/v1/ask", json=body, headers=auth) as r:
                    assert r.status == 200, await r.text()
                    await r.read()

            sender = SlackEventSender(url=slack_url + "/slack/events", signing_secret="s" * 32, sim=slack)

            async def ask_slack() -> None:
                sent = await sender.mention("U1", "C1", "status?")
                ts = sent.payload["event"]["ts"]  # type: ignore[index]
                await slack.wait_for(lambda: slack.bot_replies("C1", ts), timeout=30)

            await timed(ask_api, 5)
            await timed(ask_slack, 5)
            api_ask = await timed(ask_api, N_ASK)
            slack_ask = await timed(ask_slack, N_ASK)
            print("== bench/api: a question end to end, instant model (same workers, same run)")
            print(line("Slack mention → answer in thread", slack_ask))
            print(line("POST /api/v1/ask → JSON answer", api_ask))
            print(f"  ratio api/slack: p50 {pct(api_ask, 50) / pct(slack_ask, 50):.2f}x, "
                  f"p95 {pct(api_ask, 95) / pct(slack_ask, 95):.2f}x")

            t = time.perf_counter()
            await conn.execute(
                "INSERT INTO audit_events (event_type, user_id, session_id, timestamp, agent_version, "
                "user_message, namespace) "
                "SELECT (ARRAY['query','tool_call','tool_call','security'])[1 + i % 4], "
                "'user-' || (i % 500), 'sess-' || (i / 4), now() - (i || ' seconds')::interval, 'bench', "
                "'question ' || i, 'ns-' || (i % 50) FROM generate_series(1, $1) AS i", AUDIT_ROWS)
            await conn.execute("ANALYZE audit_events")
            print(f"== bench/api: GET /api/v1/audit over {AUDIT_ROWS:,} rows "
                  f"(inserted in {time.perf_counter() - t:.1f} s)")
            admin = {"Authorization": f"Bearer {kc.token_for('root')}"}
            assert root.id
            for name, query in (("newest page", ""), ("user filter", "?user=user-42"),
                                ("type + since", "?type=security&since=2000-01-01T00:00:00%2B00:00"),
                                ("user + type + window", "?user=user-7&type=query"
                                 "&since=2000-01-01T00:00:00%2B00:00&until=2100-01-01T00:00:00%2B00:00&limit=50")):
                ms = await timed(lambda q=query: get("/api/v1/audit" + q, admin), N_AUDIT // 4)
                print(line(name, ms))
        stop.set()
        await asyncio.wait([worker], timeout=10)
        for runner in runners:
            await runner.cleanup()
        await api.aclose()
        await runtime.aclose()
    await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
