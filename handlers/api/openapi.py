"""The OpenAPI 3.1 document of /api/v1 (served at /api/v1/openapi.json) and a docs page that
lists the operations and lets a user try them with a token — served by us, no external CDN."""

from __future__ import annotations

import html
import json
from typing import Any

from aiohttp import web

_PROBLEM = {
    "description": "Problem (RFC 9457)",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
_ERRORS = {code: _PROBLEM for code in ("400", "401", "403", "404", "429")}
_ID = [
    {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
        "description": "The audit id of the question (`query` event)",
    }
]


def _op(summary: str, ok: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {"200": ok, **_ERRORS}, **extra}


def _json(ref: str) -> dict[str, Any]:
    return {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def document(server_url: str = "/") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "aiops REST API",
            "version": "1",
            "description": "Ask the aiops agent and read its audit trail. Every request carries a Keycloak "
            "access token (`Authorization: Bearer …`); the token's `aiops_namespaces` and "
            "`aiops_roles` decide what the agent may look at.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/ask": {
                "post": _op(
                    "Ask a question; the answer streams as Server-Sent Events or returns as JSON",
                    {
                        "description": "The answer",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Answer"}},
                            "text/event-stream": {"schema": {"type": "string"}},
                        },
                    },
                    requestBody={
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Question"}}
                        },
                    },
                )
            },
            "/api/v1/whoami": {"get": _op("The caller's identity, roles and namespaces", _json("Whoami"))},
            "/api/v1/conversations": {"get": _op("The caller's own conversations", _json("Conversations"))},
            "/api/v1/investigations/{id}": {
                "get": _op(
                    "One investigation (the asker or an admin)", _json("Investigation"), parameters=_ID
                )
            },
            "/api/v1/audit": {
                "get": _op(
                    "Audit events (admin)",
                    _json("AuditEvents"),
                    parameters=[
                        {"name": n, "in": "query", "required": False, "schema": s, "description": d}
                        for n, s, d in (
                            ("user", {"type": "string"}, "user id (Keycloak subject)"),
                            (
                                "type",
                                {
                                    "type": "string",
                                    "enum": [
                                        "query",
                                        "tool_call",
                                        "recommendation",
                                        "auth_failure",
                                        "security",
                                        "identity",
                                        "admin",
                                        "retention",
                                    ],
                                },
                                "event type",
                            ),
                            ("since", {"type": "string", "format": "date-time"}, "from (inclusive)"),
                            ("until", {"type": "string", "format": "date-time"}, "to (exclusive)"),
                            ("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size"),
                        )
                    ],
                )
            },
            "/api/v1/audit/{id}": {
                "get": _op(
                    "A question's audit row and its tool calls (admin or the asker)",
                    _json("AuditEntry"),
                    parameters=_ID,
                )
            },
            "/api/v1/audit/verify": {
                "get": _op(
                    "The last stored audit verification result (admin)",
                    {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                )
            },
            "/api/v1/auth/config": {
                "get": {
                    "summary": "Where clients log in (public)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": _SCHEMAS,
        },
    }


_STR = {"type": "string"}
_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["title", "status", "detail"],
        "properties": {"type": _STR, "title": _STR, "status": {"type": "integer"}, "detail": _STR},
    },
    "Question": {
        "type": "object",
        "required": ["question"],
        "additionalProperties": False,
        "properties": {
            "question": {"type": "string", "minLength": 1, "maxLength": 4000},
            "namespace": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"},
            "stream": {"type": "boolean"},
        },
    },
    "Answer": {
        "type": "object",
        "properties": {
            "conversation_id": _STR,
            "status": {"type": "string", "enum": ["final", "error"]},
            "text": _STR,
            "audit_id": {"type": "string", "format": "uuid"},
            "offline": {"type": "boolean"},
            "evidence": {"type": "array", "items": _STR},
            "recommendations": {"type": ["string", "null"]},
        },
    },
    "Whoami": {
        "type": "object",
        "properties": {
            "sub": _STR,
            "username": _STR,
            "roles": {"type": "array", "items": _STR},
            "namespaces": {"oneOf": [{"type": "array", "items": _STR}, {"const": "all"}]},
            "may_receive_recommendations": {"type": "boolean"},
            "may_run_jobs": {"type": "boolean"},
        },
    },
    "Conversations": {
        "type": "object",
        "properties": {"conversations": {"type": "array", "items": {"type": "object"}}},
    },
    "Investigation": {
        "type": "object",
        "properties": {
            "id": _STR,
            "asked_at": _STR,
            "question": _STR,
            "answer": {"type": ["string", "null"]},
            "answer_retained": {"type": "boolean"},
            "tool_calls": {},
            "session_id": _STR,
        },
    },
    "AuditEvents": {
        "type": "object",
        "properties": {"events": {"type": "array", "items": {"type": "object"}}},
    },
    "AuditEntry": {
        "type": "object",
        "properties": {
            "query": {"type": "object"},
            "tool_calls": {"type": "array", "items": {"type": "object"}},
        },
    },
}


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document())


async def docs_page(request: web.Request) -> web.Response:
    doc = document()
    rows = "".join(
        f"<li><code>{html.escape(method.upper())} {html.escape(path)}</code> — "
        f"{html.escape(op['summary'])}</li>"
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    )
    body = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>aiops API</title></head><body>"
        f"<main><h1>aiops REST API v1</h1><p>{html.escape(doc['info']['description'])}</p>"
        f"<p>Machine-readable: <a href='/api/v1/openapi.json'>openapi.json</a></p><ul>{rows}</ul>"
        f"<h2>Try it</h2><form id='try'><label for='tok'>Access token</label> "
        f"<input id='tok' type='password' autocomplete='off'> <label for='path'>GET path</label> "
        f"<input id='path' value='/api/v1/whoami'> <button type='submit'>Send</button></form>"
        f"<pre id='out' aria-live='polite'></pre></main><script src='/api/v1/docs.js'></script></body></html>"
    )
    return web.Response(text=body, content_type="text/html", headers=_STRICT_CSP)


_DOCS_JS = """document.getElementById('try').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await fetch(document.getElementById('path').value,
    {headers: {Authorization: 'Bearer ' + document.getElementById('tok').value}});
  document.getElementById('out').textContent = r.status + '\\n' + JSON.stringify(await r.json(), null, 2);
});"""
_STRICT_CSP = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'self'; form-action 'self'; frame-ancestors 'none'"
}


async def docs_js(request: web.Request) -> web.Response:
    return web.Response(text=_DOCS_JS, content_type="application/javascript", headers=_STRICT_CSP)


def dumps() -> str:
    return json.dumps(document(), indent=2)
