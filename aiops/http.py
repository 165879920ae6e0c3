"""The HTTP surface (BRIEF §3): one aiohttp Application, handlers injected.

`/slack/events` → Bolt (events, slash commands, interactivity), `/alerts/alertmanager`,
`/healthz`, `/readyz`, `/metrics`. Nothing else is served.
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
    app.router.add_get("/metrics", health.metrics)
    return app
