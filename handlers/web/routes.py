"""The UI's routes on the API application: pages, login, and `/ui/api/…` (the REST endpoints with
the session authenticator in place of the bearer header)."""

from __future__ import annotations

from aiohttp import web

from handlers.api.ask import AskEndpoint
from handlers.api.reads import ReadEndpoints
from handlers.web.login import WebLogin
from handlers.web.pages import Pages


def add_ui_routes(
    app: web.Application, *, pages: Pages, login: WebLogin, ask: AskEndpoint, reads: ReadEndpoints
) -> None:
    app.router.add_get("/", pages.index)
    app.router.add_get("/static/{name}", pages.static)
    app.router.add_get("/login", login.login)
    app.router.add_get("/callback", login.callback)
    app.router.add_post("/logout", login.logout)
    app.router.add_post("/ui/api/ask", ask.ask)
    app.router.add_get("/ui/api/whoami", reads.whoami)
    app.router.add_get("/ui/api/conversations", reads.conversations)
    app.router.add_get("/ui/api/investigations/{id}", reads.investigation)
    app.router.add_get("/ui/api/audit", reads.audit_list)
    app.router.add_get("/ui/api/audit/verify", reads.audit_verify)
    app.router.add_get("/ui/api/audit/{id}", reads.audit_entry)


def add_ui_disabled(app: web.Application) -> None:
    async def off(_request: web.Request) -> web.Response:
        return web.Response(text="The Web UI is off: the web_session_key secret file is missing.", status=503)

    app.router.add_get("/", off)
