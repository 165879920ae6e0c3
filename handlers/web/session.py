"""Server-side web sessions: the browser holds only `aiops_session` — a random id with an HMAC
(key: the `web_session_key` secret) — while the tokens stay in Redis. The UI authenticator takes the
access token from there (refreshing it with the refresh token when it expires) and checks the CSRF
token of every state-changing request; the token is still verified on every request."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from handlers.api.auth import Authenticator
from handlers.api.problems import Problem, unauthorized

COOKIE = "aiops_session"
SESSION_TTL_S = 8 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD"})


class WebSessions:
    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        prefix: str,
        key: bytes,
        token_endpoint: str,
        client_id: str,
        http: aiohttp.ClientSession,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._key = key
        self._token_endpoint = token_endpoint
        self._client_id = client_id
        self._http = http

    def _rkey(self, sid: str) -> str:
        return f"{self._prefix}:web:session:{hashlib.sha256(sid.encode()).hexdigest()}"

    def sign(self, sid: str) -> str:
        return f"{sid}.{hmac.new(self._key, sid.encode(), hashlib.sha256).hexdigest()}"

    def unsign(self, cookie: str | None) -> str | None:
        sid, _, mac = (cookie or "").partition(".")
        good = hmac.new(self._key, sid.encode(), hashlib.sha256).hexdigest()
        return sid if sid and hmac.compare_digest(mac, good) else None

    async def create(self, tokens: dict[str, Any]) -> tuple[str, str]:
        """A new session for these tokens → (signed cookie value, csrf token)."""
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await self._store(sid, {**_token_fields(tokens), "csrf": csrf})
        return self.sign(sid), csrf

    async def _store(self, sid: str, record: dict[str, Any]) -> None:
        await self._redis.set(self._rkey(sid), json.dumps(record), ex=SESSION_TTL_S)

    async def get(self, cookie: str | None) -> tuple[str, dict[str, Any]] | None:
        sid = self.unsign(cookie)
        if sid is None:
            return None
        raw = await self._redis.get(self._rkey(sid))
        return (sid, json.loads(raw)) if raw else None

    async def delete(self, cookie: str | None) -> None:
        if sid := self.unsign(cookie):
            await self._redis.delete(self._rkey(sid))

    async def access_token(self, sid: str, record: dict[str, Any]) -> str | None:
        if record["expires_at"] - 30 > time.time():
            return str(record["access_token"])
        if not record.get("refresh_token"):
            return None
        grant = {
            "grant_type": "refresh_token",
            "refresh_token": record["refresh_token"],
            "client_id": self._client_id,
        }
        async with self._http.post(self._token_endpoint, data=grant) as resp:
            if resp.status != 200:
                return None
            tokens = await resp.json()
        await self._store(sid, {**record, **_token_fields(tokens)})
        return str(tokens["access_token"])


def _token_fields(tokens: dict[str, Any]) -> dict[str, Any]:
    return {
        "access_token": tokens["access_token"],
        "refresh_token": tokens.get("refresh_token"),
        "expires_at": time.time() + float(tokens.get("expires_in", 300)),
    }


class SessionAuthenticator(Authenticator):
    """The same verification as the API; the token comes from the session, and POSTs need CSRF."""

    def __init__(self, *, sessions: WebSessions, **kw: Any) -> None:
        super().__init__(**kw)
        self._sessions = sessions

    async def bearer(self, request: web.Request) -> str:
        found = await self._sessions.get(request.cookies.get(COOKIE))
        if found is None:
            raise unauthorized("Your session has ended: log in again.")
        sid, record = found
        if request.method not in SAFE_METHODS:
            sent = request.headers.get("X-CSRF-Token", "")
            if not hmac.compare_digest(sent, str(record["csrf"])):
                raise Problem(403, "Forbidden", "Missing or wrong CSRF token: reload the page.")
        token = await self._sessions.access_token(sid, record)
        if token is None:
            raise unauthorized("Your session has expired: log in again.")
        return token
