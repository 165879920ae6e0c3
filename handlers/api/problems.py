"""RFC 9457 problem details: every API error is `application/problem+json` with a clear `detail`."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

PROBLEM_TYPE = "application/problem+json"


class Problem(web.HTTPException):
    """Raise anywhere in a handler; the middleware renders it."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        self.status_code = status
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extensions}
        super().__init__(
            text=json.dumps(body),
            content_type=PROBLEM_TYPE,
            headers=headers,
        )


def bad_request(detail: str) -> Problem:
    return Problem(400, "Bad Request", detail)


def unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="aiops", error="invalid_token"'},
    )


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)


def not_found(detail: str) -> Problem:
    return Problem(404, "Not Found", detail)


@web.middleware
async def problem_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Any aiohttp HTTP error (404 route, 405, 413 body too large) becomes problem+json too."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except Problem:
        raise
    except web.HTTPException as exc:
        if exc.status_code < 400:
            raise
        title = exc.reason or "Error"
        detail = {
            413: "The request body is too large.",
            404: "No such endpoint.",
            405: "Method not allowed on this endpoint.",
        }.get(exc.status_code, title)
        raise Problem(exc.status_code, title, detail) from None
