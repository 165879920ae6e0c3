"""The API's aiohttp application: routes, problem+json errors, body limits, no CORS."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handlers.api import openapi
from handlers.api.ask import AskEndpoint
from handlers.api.limits import MAX_BODY_BYTES
from handlers.api.problems import Problem, problem_middleware
from handlers.api.reads import ReadEndpoints

_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    """CORS stays closed: no Access-Control-* headers, and a preflight is refused."""
    if request.method == "OPTIONS":
        raise Problem(403, "Forbidden", "Cross-origin requests are not allowed.")
    response: web.StreamResponse = await handler(request)
    if not response.prepared:
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def build_api_app(*, ask: AskEndpoint, reads: ReadEndpoints, auth_config: dict[str, str]) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[security_headers, problem_middleware])

    async def config(_request: web.Request) -> web.Response:
        return web.json_response(auth_config)

    app.router.add_post("/api/v1/ask", ask.ask)
    app.router.add_get("/api/v1/whoami", reads.whoami)
    app.router.add_get("/api/v1/conversations", reads.conversations)
    app.router.add_get("/api/v1/investigations/{id}", reads.investigation)
    app.router.add_get("/api/v1/audit", reads.audit_list)
    app.router.add_get("/api/v1/audit/verify", reads.audit_verify)
    app.router.add_get("/api/v1/audit/{id}", reads.audit_entry)
    app.router.add_get("/api/v1/auth/config", config)
    app.router.add_get("/api/v1/openapi.json", openapi.openapi_json)
    app.router.add_get("/api/v1/docs", openapi.docs_page)
    app.router.add_get("/api/v1/docs.js", openapi.docs_js)
    return app
