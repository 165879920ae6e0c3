"""The HTTP surface (BRIEF §3, wave 2 ports): aiohttp Applications, handlers injected.

Public webhook port (`AIOPS_HTTP_PORT`, 3000): `/slack/events` → fast path or Bolt,
`/alerts/alertmanager`, `/healthz`, `/readyz` — nothing else, never `/metrics`.
Metrics port (`AIOPS_METRICS_PORT`, 9464, reachable only from monitoring): `/metrics`, and
`/healthz` + `/readyz` so `aiops worker` (which has no public port) has probes too.
"""

from __future__ import annotations

from aiohttp import web

from handlers.alerts import AlertmanagerEndpoint
from handlers.health import HealthEndpoints
from handlers.slack import SlackEndpoint

MAX_BODY = 1024 * 1024
"""Slack payloads are a few KB; Alertmanager groups are capped at MAX_ALERTS anyway."""


def build_web_app(
    *, slack: SlackEndpoint, alerts: AlertmanagerEndpoint, health: HealthEndpoints
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/slack/events", slack.handle)
    app.router.add_post("/alerts/alertmanager", alerts.handle)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    return app


def build_metrics_app(*, health: HealthEndpoints) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/metrics", health.metrics)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    return app
