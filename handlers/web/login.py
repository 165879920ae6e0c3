"""`/login` → Keycloak (authorization code + PKCE S256, state) → `/callback` → a server-side session
cookie; `POST /logout` ends it. The login state (verifier, state) waits in Redis for 10 minutes and
is bound to the browser by a short-lived signed cookie, so a callback from another browser fails."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from urllib.parse import urlencode

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from app.identity.tokens import TokenRejected, TokenVerifier
from handlers.api.problems import Problem
from handlers.web.session import COOKIE, SESSION_TTL_S, WebSessions

LOGIN_COOKIE = "aiops_login"
LOGIN_TTL_S = 600


class WebLogin:
    def __init__(
        self,
        *,
        sessions: WebSessions,
        redis: aioredis.Redis,
        prefix: str,
        verifier: TokenVerifier,
        http: aiohttp.ClientSession,
        authorization_endpoint: str,
        token_endpoint: str,
        client_id: str,
    ) -> None:
        self._sessions = sessions
        self._redis = redis
        self._prefix = prefix
        self._verifier = verifier
        self._http = http
        self._auth_endpoint = authorization_endpoint
        self._token_endpoint = token_endpoint
        self._client_id = client_id

    @staticmethod
    def _redirect_uri(request: web.Request) -> str:
        return f"{request.url.origin()}/callback"

    async def login(self, request: web.Request) -> web.Response:
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        await self._redis.set(f"{self._prefix}:web:login:{state}", verifier, ex=LOGIN_TTL_S)
        query = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": self._redirect_uri(request),
            "scope": "openid",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        resp = web.HTTPFound(f"{self._auth_endpoint}?{urlencode(query)}")
        resp.set_cookie(
            LOGIN_COOKIE,
            self._sessions.sign(state),
            max_age=LOGIN_TTL_S,
            httponly=True,
            secure=True,
            samesite="Lax",
            path="/callback",
        )
        raise resp

    async def callback(self, request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        bound = self._sessions.unsign(request.cookies.get(LOGIN_COOKIE))
        if not state or bound is None or not hmac.compare_digest(bound, state):
            raise Problem(
                400, "Bad Request", "This login did not start in this browser: start again at /login."
            )
        verifier = await self._redis.getdel(f"{self._prefix}:web:login:{state}")
        if verifier is None or "code" not in request.query:
            raise Problem(400, "Bad Request", "The login expired or was cancelled: start again at /login.")
        grant = {
            "grant_type": "authorization_code",
            "code": request.query["code"],
            "client_id": self._client_id,
            "redirect_uri": self._redirect_uri(request),
            "code_verifier": verifier.decode() if isinstance(verifier, bytes) else str(verifier),
        }
        async with self._http.post(self._token_endpoint, data=grant) as resp:
            tokens = json.loads(await resp.text())
        if resp.status != 200 or "access_token" not in tokens:
            raise Problem(400, "Bad Request", "Keycloak refused the login code: start again at /login.")
        try:
            await self._verifier.verify(tokens["access_token"])
        except TokenRejected:
            raise Problem(
                401, "Unauthorized", "Keycloak returned a token this service does not accept."
            ) from None
        cookie, _csrf = await self._sessions.create(tokens)
        done = web.HTTPFound("/")
        done.set_cookie(
            COOKIE, cookie, max_age=SESSION_TTL_S, httponly=True, secure=True, samesite="Lax", path="/"
        )
        done.del_cookie(LOGIN_COOKIE, path="/callback")
        raise done

    async def logout(self, request: web.Request) -> web.Response:
        found = await self._sessions.get(request.cookies.get(COOKIE))
        if found is not None:
            sent = request.headers.get("X-CSRF-Token", "") or str((await request.post()).get("csrf", ""))
            if not hmac.compare_digest(sent, str(found[1]["csrf"])):
                raise Problem(403, "Forbidden", "Missing or wrong CSRF token: reload the page.")
            await self._sessions.delete(request.cookies.get(COOKIE))
        done = web.HTTPFound("/")
        done.del_cookie(COOKIE, path="/")
        raise done
