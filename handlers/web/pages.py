"""The UI's pages: one server-rendered shell (login, or the app with its CSRF token) plus our own
JavaScript and CSS. Everything dynamic is inserted as text by the script, never as HTML."""

from __future__ import annotations

import html
from importlib.resources import files

from aiohttp import web

from handlers.web.session import COOKIE, WebSessions

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
_STATIC = {"app.js": "application/javascript", "app.css": "text/css"}


def _shell(title: str, body: str, *, csrf: str = "") -> web.Response:
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<meta name='csrf-token' content='{html.escape(csrf)}'><title>{html.escape(title)}</title>"
        f"<link rel='stylesheet' href='/static/app.css'></head><body>{body}"
        f"<script src='/static/app.js'></script></body></html>"
    )
    return web.Response(text=page, content_type="text/html", headers=_HEADERS)


_LOGIN = (
    "<main><h1>aiops</h1><p>Ask about your services and see what the agent did. "
    "Sign in with your company account.</p>"
    "<p><a class='button' href='/login'>Log in with Keycloak</a></p></main>"
)

_APP = """<header><h1>aiops</h1><nav aria-label='Sections'>
<a href='#ask'>Ask</a> <a href='#investigations'>My investigations</a> <a href='#audit'>Audit</a></nav>
<p id='who' aria-live='polite'></p>
<form id='logout' method='post' action='/logout'><input type='hidden' name='csrf' value='{csrf}'>
<button type='submit'>Log out</button></form></header>
<main>
<section id='ask-view' aria-labelledby='ask-title'><h2 id='ask-title'>Ask</h2>
<form id='ask-form'><label for='question'>Question</label>
<textarea id='question' name='question' rows='3' required maxlength='4000'></textarea>
<label for='namespace'>Namespace (optional)</label><input id='namespace' name='namespace'>
<button type='submit'>Ask</button></form>
<p id='status' role='status' aria-live='polite'></p>
<article id='answer' aria-live='polite'></article>
<div id='graphs'></div>
<h3>Evidence</h3><ul id='evidence'></ul><p id='audit-ref'></p></section>
<section id='investigations-view' hidden aria-labelledby='inv-title'><h2 id='inv-title'>My investigations</h2>
<ul id='investigations'></ul><article id='investigation'></article></section>
<section id='audit-view' hidden aria-labelledby='audit-title'><h2 id='audit-title'>Audit log</h2>
<p id='verify-status'></p>
<form id='audit-form'><label for='f-user'>User</label><input id='f-user' name='user'>
<label for='f-type'>Type</label><select id='f-type' name='type'><option value=''>any</option>
<option>query</option><option>tool_call</option><option>auth_failure</option><option>security</option>
<option>identity</option><option>admin</option><option>retention</option></select>
<label for='f-since'>Since</label><input id='f-since' name='since' type='datetime-local'>
<button type='submit'>Filter</button></form>
<p id='audit-error' role='alert'></p>
<table id='audit-table'><caption>Audit events, newest first</caption><thead><tr><th scope='col'>Time</th>
<th scope='col'>Type</th><th scope='col'>User</th><th scope='col'>Namespace</th><th scope='col'>Detail</th>
</tr></thead><tbody></tbody></table></section>
</main>"""


class Pages:
    def __init__(self, *, sessions: WebSessions) -> None:
        self._sessions = sessions

    async def index(self, request: web.Request) -> web.Response:
        found = await self._sessions.get(request.cookies.get(COOKIE))
        if found is None:
            return _shell("aiops — log in", _LOGIN)
        csrf = str(found[1]["csrf"])
        return _shell("aiops", _APP.replace("{csrf}", html.escape(csrf)), csrf=csrf)

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _STATIC:
            raise web.HTTPNotFound()
        text = files("handlers.web").joinpath("static", name).read_text(encoding="utf-8")
        return web.Response(text=text, content_type=_STATIC[name], headers=_HEADERS)
