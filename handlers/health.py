"""`GET /healthz` (process alive), `GET /readyz` (what this component needs), `GET /metrics`.

Readiness is per component (the composition root picks the checks): the receiver needs only
Redis to ack, so a PostgreSQL blip never makes Slack's events bounce; a worker needs Redis,
PostgreSQL and the schema version this build expects (`app.schema_check`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from app.schema_check import SchemaBehind
from kernel.metrics import Metrics

Check = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_S = 2.0


class HealthEndpoints:
    def __init__(
        self, *, checks: Mapping[str, Check], metrics: Metrics, refresh: Check | None = None
    ) -> None:
        self._checks = dict(checks)
        self._metrics = metrics
        self._refresh = refresh  # gauges read from a store at scrape time (e.g. the audit status)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        results = await asyncio.gather(*(self._run(check) for check in self._checks.values()))
        status = dict(zip(self._checks, results, strict=True))
        ready = all(v == "ok" for v in status.values())
        return web.json_response(
            {"status": "ready" if ready else "not ready", **status}, status=200 if ready else 503
        )

    async def metrics(self, request: web.Request) -> web.Response:
        if self._refresh is not None:
            await self._run(self._refresh)  # a failed refresh keeps the last values
        return web.Response(body=self._metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @staticmethod
    async def _run(check: Check) -> str:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                await check()
        except SchemaBehind as exc:  # our own text: names the missing migration, no secrets
            return f"not ready ({exc})"
        except Exception as exc:  # the type only: messages may carry a DSN with a password
            return f"unreachable ({type(exc).__name__})"
        return "ok"
