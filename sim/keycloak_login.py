"""Keycloak's browser login for the simulator: the OIDC authorization endpoint with its login form,
and the authorization-code grant with PKCE (S256) at the token endpoint.

`GET …/protocol/openid-connect/auth?response_type=code&client_id=…&redirect_uri=…&state=…
&code_challenge=…&code_challenge_method=S256` renders a login form (`#kc-form-login`, fields
`username` / `password`, button `#kc-login`, as Keycloak's theme names them); posting valid
credentials redirects to `redirect_uri?code=…&state=…&session_state=…&iss=…`. The code is single
use, lives 60 s, and is bound to the client, the redirect URI and the PKCE challenge. Every user's
password is `password` unless `passwords[username]` says otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from aiohttp import web

CODE_TTL_S = 60
_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "nonce",
    "scope",
    "code_challenge",
    "code_challenge_method",
)


class Realm(Protocol):
    client_id: str
    public_clients: tuple[str, ...]
    clock: Callable[[], float]

    @property
    def users(self) -> Mapping[str, Any]: ...

    @property
    def issuer(self) -> str: ...

    def _tokens(self, user: Any) -> web.Response: ...


@dataclass
class AuthCode:
    username: str
    client_id: str
    redirect_uri: str
    challenge: str
    expires_at: float


class CodeFlow:
    def __init__(self, realm: Realm) -> None:
        self.realm = realm
        self.codes: dict[str, AuthCode] = {}
        self.passwords: dict[str, str] = {}

    def routes(self, app: web.Application, oidc: str) -> None:
        app.router.add_get(f"{oidc}/auth", self._form)
        app.router.add_post(f"{oidc}/auth", self._login)

    def _client_known(self, client_id: str) -> bool:
        return client_id == self.realm.client_id or client_id in self.realm.public_clients

    def _problem(self, params: Mapping[str, str]) -> str | None:
        if params.get("response_type") != "code":
            return "Unsupported response type"
        if not self._client_known(params.get("client_id", "")):
            return "Client not found."
        if not params.get("redirect_uri", "").startswith(("http://", "https://")):
            return "Invalid parameter: redirect_uri"
        if params.get("client_id") in self.realm.public_clients and (
            params.get("code_challenge_method") != "S256" or not params.get("code_challenge")
        ):
            return "Missing parameter: code_challenge_method"  # PKCE required for public clients
        return None

    async def _form(self, request: web.Request) -> web.Response:
        params = {k: request.query[k] for k in _PARAMS if k in request.query}
        if problem := self._problem(params):
            return web.Response(
                status=400,
                text=f"<html><body><p>{html.escape(problem)}</p></body></html>",
                content_type="text/html",
            )
        return self._page(params, error=None)

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        params = {k: str(form[k]) for k in _PARAMS if k in form}
        if problem := self._problem(params):
            return web.Response(status=400, text=html.escape(problem), content_type="text/html")
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        user = self.realm.users.get(username)
        if user is None or not user.enabled or self.passwords.get(username, "password") != password:
            return self._page(params, error="Invalid username or password.")
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthCode(
            username,
            params["client_id"],
            params["redirect_uri"],
            params.get("code_challenge", ""),
            self.realm.clock() + CODE_TTL_S,
        )
        query = {
            "state": params.get("state", ""),
            "session_state": str(uuid.uuid4()),
            "iss": self.realm.issuer,
            "code": code,
        }
        raise web.HTTPFound(f"{params['redirect_uri']}?{urlencode(query)}")

    def _page(self, params: Mapping[str, str], *, error: str | None) -> web.Response:
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in params.items()
        )
        alert = f'<div id="input-error" role="alert">{html.escape(error)}</div>' if error else ""
        body = (
            "<!doctype html><html lang='en'><head><title>Sign in to aiops</title></head><body>"
            f"<h1 id='kc-page-title'>Sign in to your account</h1>{alert}"
            f"<form id='kc-form-login' method='post'>{hidden}"
            "<label for='username'>Username or email</label><input id='username' name='username'>"
            "<label for='password'>Password</label><input id='password' name='password' type='password'>"
            "<input id='kc-login' type='submit' value='Sign In'></form></body></html>"
        )
        return web.Response(text=body, content_type="text/html", status=200)

    def exchange(self, form: Mapping[str, Any]) -> web.Response:
        """grant_type=authorization_code at the token endpoint."""
        entry = self.codes.pop(str(form.get("code", "")), None)  # single use
        if entry is None or entry.expires_at < self.realm.clock():
            return _error("invalid_grant", "Code not valid")
        if form.get("client_id") != entry.client_id:
            return _error("invalid_grant", "Auth error")
        if form.get("redirect_uri") != entry.redirect_uri:
            return _error("invalid_grant", "Incorrect redirect_uri")
        verifier = str(form.get("code_verifier", ""))
        if entry.challenge or verifier:
            digest = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if digest != entry.challenge:
                return _error("invalid_grant", "PKCE verification failed: Invalid code verifier")
        return self.realm._tokens(self.realm.users[entry.username])


def _error(error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=400)
