"""The simulator's HTTP side: `/api/<method>`, the file upload URL and `response_url`s, plus the
call log, failure injection and `wait_for` that tests use."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Literal, TypeVar

from aiohttp import web
from aiohttp.web_request import FileField

from sim.slack.methods import WebApi
from sim.slack.model import (
    JSON,
    METHOD_SCOPES,
    RESPONSE_URL_LIFETIME_S,
    RESPONSE_URL_USES,
    STREAM_LIFETIME_S,
    SimError,
    SlackCall,
    SlackUser,
    manifest_scopes,
)
from sim.slack.render import render_conversation
from sim.slack.socket_mode import SocketModeServer

T = TypeVar("T")
# Form-encoded clients send these as JSON strings; JSON clients send them as values.
_JSON_FIELDS = ("blocks", "attachments", "chunks", "metadata", "files", "loading_messages")


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str
    times: int


class SlackSimulator(WebApi):
    """A Slack workspace on 127.0.0.1 speaking the Web API wire format (see package docstring).

    `scopes`: the bot token's scopes. "manifest" (default) = the bot scopes in the repository's
    manifest.yaml, so a method the manifest does not grant fails with `missing_scope` as in
    production; "all" = no scope checks; or an explicit collection.
    """

    def render_conversation(self, channel: str) -> str:
        """The channel as a person reads it in Slack (see `sim.slack.render`)."""
        return render_conversation(self, channel)

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-sim-bot-token",
        app_token: str | None = None,
        team_id: str = "T0SIM",
        bot_user_id: str = "U0AIOPS",
        bot_id: str = "B0AIOPS",
        app_id: str = "A0AIOPS",
        users: list[SlackUser] | None = None,
        scopes: Collection[str] | Literal["manifest", "all"] = "manifest",
        strict_channels: bool = False,
        stream_lifetime: float = STREAM_LIFETIME_S,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        granted: Collection[str] | None
        if scopes == "manifest":
            granted = manifest_scopes()
        elif scopes == "all":
            granted = None
        else:
            granted = scopes
        super().__init__(bot_token=bot_token, team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id,
                         app_id=app_id, users=users, scopes=granted, strict_channels=strict_channels,
                         stream_lifetime=stream_lifetime)
        self.app_token = app_token
        """The app-level token (xapp-…) that may open Socket Mode connections; None: no Socket Mode."""
        self.socket = SocketModeServer(app_id=app_id)
        self.calls: list[SlackCall] = []
        self.responses: list[JSON] = []
        """Every POST to a response_url, as {channel, user, body}."""
        self._host, self._port = host, port
        self._failures: dict[str, deque[_Failure]] = {}
        self._limits: dict[str, tuple[float, deque[float]]] = {}
        self._response_urls: dict[str, tuple[str, str]] = {}
        self._response_url_use: dict[str, tuple[float, int]] = {}  # key → (issued at, uses)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{key}", self._handle_response_url)
        app.router.add_get("/socket-mode/{key}", self.socket.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._url = f"http://{self._host}:{port}/"

    async def stop(self) -> None:
        await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("SlackSimulator.start() must be called first")
        return self._url

    @property
    def base_url(self) -> str:
        """For `AsyncWebClient(base_url=…)` and `SLACK_API_URL` — ends with `/api/`."""
        return self.url + "api/"

    def upload_url(self, file_id: str) -> str:
        return f"{self.url}upload/v1/{file_id}"

    def response_url(self, channel: str, user: str) -> str:
        """A slash-command/interactivity `response_url` served by this simulator."""
        key = self._next_id("R")
        self._response_urls[key] = (channel, user)
        self._response_url_use[key] = (time.monotonic(), 0)
        return f"{self.url}response/{key}"

    # ---- failure injection -----------------------------------------------------------------

    def fail_next(self, method: str, *, status: int = 429, retry_after: int | None = 1, times: int = 1,
                  error: str | None = None) -> None:
        """The next `times` calls of `method` fail: 429 (with Retry-After), a 5xx, or — with
        status=200 — a Slack API error such as `channel_not_found`."""
        code = error or ("ratelimited" if status == 429 else "internal_error")
        self._failures.setdefault(method, deque()).append(_Failure(status, retry_after, code, times))

    def ratelimit(self, method: str, per_second: float) -> None:
        """Answer 429 (Retry-After: 1) once `method` is called more than `per_second` times a second."""
        self._limits[method] = (per_second, deque())

    def _injected_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if queue:
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.popleft()
            return failure
        limit = self._limits.get(method)
        if limit is not None:
            per_second, seen = limit
            now = time.monotonic()
            while seen and now - seen[0] >= 1.0:
                seen.popleft()
            if len(seen) >= per_second:
                return _Failure(429, 1, "ratelimited", 1)
            seen.append(now)
        return None

    # ---- queries ---------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    # A deadline parameter is this helper's whole point (tests read `timeout=`).
    async def wait_for(
        self,
        predicate: Callable[[], T | Awaitable[T | None] | None],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        what: str | None = None,
    ) -> T:
        """Return the predicate's first truthy value; re-checked on every change to the
        simulator's state (and every 50 ms, for state that lives elsewhere)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                name = what or getattr(predicate, "__name__", "predicate")
                # Say what the app did get wrong: the usual cause of a missing answer.
                failed = [f"{c.method}→{c.error}" for c in self.calls if not c.ok][-8:]
                raise TimeoutError(f"SlackSimulator.wait_for timed out after {timeout}s: {name}; "
                                   f"{len(self.calls)} Web API calls, failed: {failed or 'none'}")
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    # ---- HTTP handlers ---------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        token = _bearer(request) or params.pop("token", None)
        call = SlackCall(method=method, params=params, status=200, ok=True, token=token)
        self.calls.append(call)
        headers: dict[str, str] = {"X-Accepted-OAuth-Scopes": ",".join(METHOD_SCOPES.get(method, ()))}
        if self.scopes is not None:
            headers["X-OAuth-Scopes"] = ",".join(sorted(self.scopes))
        try:
            injected = self._injected_failure(method)
            if injected is not None:
                call.status = injected.status
                if injected.retry_after is not None and injected.status == 429:
                    headers["Retry-After"] = str(injected.retry_after)
                raise SimError(injected.error)
            if method == "apps.connections.open":  # the one method for the app-level token
                if not token or token != self.app_token:
                    raise SimError("not_authed" if not token else "invalid_auth")
                body: JSON = {"ok": True, "url": self.socket.new_url(self.url)}
            elif token != self.bot_token:
                raise SimError("not_authed" if not token else "invalid_auth")
            else:
                body = {"ok": True, **self.dispatch(method, params)}
        except SimError as err:
            call.ok, call.error = False, err.code
            body = {"ok": False, "error": err.code, **err.extra}
        finally:
            self._touch()
        return web.json_response(body, status=call.status, headers=headers)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        f = self.files.get(request.match_info["file_id"])
        if f is None:
            return web.Response(status=404, text="not found")
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = next(iter(form.values()), None)
            data = part.file.read() if isinstance(part, FileField) else str(part or "").encode()
        else:
            data = await request.read()
        f.content = data
        self.calls.append(SlackCall(method="upload", params={"file_id": f.id, "bytes": len(data)},
                                    status=200, ok=True))
        self._touch()
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    def expire_response_urls(self) -> None:
        """Let every response_url issued so far outlive its 30 minutes."""
        for key, (_at, uses) in self._response_url_use.items():
            self._response_url_use[key] = (-RESPONSE_URL_LIFETIME_S - 1.0, uses)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        target = self._response_urls.get(key)
        if target is None:
            return web.Response(status=404, text="no_response_url")
        issued, uses = self._response_url_use[key]
        if time.monotonic() - issued > RESPONSE_URL_LIFETIME_S:
            return web.Response(status=404, text="expired_url")
        if uses >= RESPONSE_URL_USES:
            return web.Response(status=404, text="used_url")
        self._response_url_use[key] = (issued, uses + 1)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload")
        channel, user = target
        self.responses.append({"channel": channel, "user": user, "body": body})
        ephemeral_to = None if body.get("response_type") == "in_channel" else user
        if body.get("text") or body.get("blocks"):
            self._post(channel, body.get("text", ""), body.get("blocks"), body.get("thread_ts"),
                       ephemeral_to=ephemeral_to)
        self._touch()
        return web.Response(text="ok", content_type="text/plain")


async def _read_params(request: web.Request) -> JSON:
    params: JSON = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                body = None
            if isinstance(body, dict):
                params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str) and params[key]:
            # Unparseable JSON stays a string; the method then answers invalid_*_format like Slack.
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError:
                pass
    return params


def _bearer(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth.startswith("Bearer ") else None
