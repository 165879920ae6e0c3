"""A wire-faithful Slack Web API on 127.0.0.1, for tests, the benchmark and `aiops demo`.

Speaks `/api/<method>` as slack_sdk's `AsyncWebClient` sends it (query string, form or JSON
body, `Authorization: Bearer xoxb-…`) and answers `{"ok": true, …}` / `{"ok": false,
"error": …}` with `Retry-After` on 429. It records every call and keeps a model of the
workspace (channels → messages with threads, edits, stream chunks, files, ephemerals) so
tests assert on what a user would see, not on which function was called.

    async with SlackSimulator() as sim:
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        await client.chat_postMessage(channel="C1", text="hi")
        await sim.wait_for(lambda: sim.bot_replies("C1", root_ts))
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.web_request import FileField

JSON = dict[str, Any]
T = TypeVar("T")

MAX_BLOCKS = 50
MAX_TEXT = 40_000
MAX_MARKDOWN = 12_000
# Form-encoded clients send these as JSON strings; JSON clients send them as values.
_JSON_FIELDS = ("blocks", "attachments", "chunks", "metadata", "files", "loading_messages")


class SimError(Exception):
    """A Slack API error answered as `{"ok": false, "error": code}`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class SlackCall:
    method: str
    params: JSON
    status: int
    ok: bool
    error: str | None = None
    token: str | None = None
    at: float = field(default_factory=time.time)


@dataclass
class SlackUser:
    id: str
    name: str
    email: str | None = None
    is_email_confirmed: bool = True
    is_bot: bool = False
    deleted: bool = False

    def to_api(self, team_id: str) -> JSON:
        profile: JSON = {"real_name": self.name, "display_name": self.name}
        if self.email is not None:
            profile["email"] = self.email
        return {"id": self.id, "team_id": team_id, "name": self.name, "real_name": self.name,
                "deleted": self.deleted, "is_bot": self.is_bot,
                "is_email_confirmed": self.is_email_confirmed, "profile": profile}


@dataclass
class SlackFile:
    id: str
    name: str
    length: int
    title: str | None = None
    alt_txt: str | None = None
    content: bytes | None = None
    channel: str | None = None
    thread_ts: str | None = None

    def to_api(self) -> JSON:
        return {"id": self.id, "name": self.name, "title": self.title or self.name,
                "size": len(self.content or b""), "alt_txt": self.alt_txt}


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    blocks: list[JSON] = field(default_factory=list)
    files: list[SlackFile] = field(default_factory=list)
    edits: list[JSON] = field(default_factory=list)
    """Previous versions ({text, blocks}) — the current one is text/blocks."""
    chunks: list[JSON] = field(default_factory=list)
    """Every chunk a stream delivered, in order."""
    streaming: bool = False
    ephemeral_to: str | None = None
    deleted: bool = False
    metadata: JSON | None = None

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self) -> JSON:
        out: JSON = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user:
            out["user"] = self.user
        if self.bot_id:
            out["bot_id"] = self.bot_id
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.blocks:
            out["blocks"] = self.blocks
        if self.files:
            out["files"] = [f.to_api() for f in self.files]
        if self.edits:
            out["edited"] = {"user": self.user, "ts": self.ts}
        if self.metadata:
            out["metadata"] = self.metadata
        return out


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str
    times: int


class SlackSimulator:
    def __init__(
        self,
        *,
        bot_token: str = "xoxb-sim-bot-token",
        team_id: str = "T0SIM",
        bot_user_id: str = "U0AIOPS",
        bot_id: str = "B0AIOPS",
        app_id: str = "A0AIOPS",
        users: list[SlackUser] | None = None,
        strict_channels: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.users: dict[str, SlackUser] = {u.id: u for u in users or []}
        self.users.setdefault(bot_user_id, SlackUser(bot_user_id, "aiops", is_bot=True))
        self.strict_channels = strict_channels
        self.channels: dict[str, list[SlackMessage]] = {}
        self.channel_names: dict[str, str] = {}
        self.calls: list[SlackCall] = []
        self.files: dict[str, SlackFile] = {}
        self.statuses: list[JSON] = []
        """Every assistant.threads.setStatus as {channel_id, thread_ts, status}."""
        self.responses: list[JSON] = []
        """Every POST to a response_url, as {channel, user, body}."""
        self._host, self._port = host, port
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._failures: dict[str, deque[_Failure]] = {}
        self._limits: dict[str, tuple[float, deque[float]]] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._response_urls: dict[str, tuple[str, str]] = {}

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{key}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._url = f"http://{self._host}:{port}/"

    async def stop(self) -> None:
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

    # ---- workspace set-up ------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, email: str | None = None,
                 is_email_confirmed: bool = True) -> SlackUser:
        user = SlackUser(user_id, name, email=email, is_email_confirmed=is_email_confirmed)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str | None = None) -> None:
        self.channels.setdefault(channel_id, [])
        self.channel_names[channel_id] = name or channel_id

    def post_user_message(self, channel: str, user: str, text: str, *,
                          thread_ts: str | None = None) -> SlackMessage:
        """A human's message (what the app then hears about as an event)."""
        msg = SlackMessage(channel=channel, ts=self._next_ts(), text=text, user=user, thread_ts=thread_ts)
        self._channel(channel, create=True).append(msg)
        self._touch()
        return msg

    def response_url(self, channel: str, user: str) -> str:
        """A slash-command/interactivity `response_url` served by this simulator."""
        key = f"R{next(self._ids):06d}"
        self._response_urls[key] = (channel, user)
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

    # ---- queries for tests -----------------------------------------------------------------

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def messages(self, channel: str, *, include_ephemeral: bool = False) -> list[SlackMessage]:
        """Every message in the channel (roots and replies), oldest first."""
        return [m for m in self.channels.get(channel, [])
                if not m.deleted and (include_ephemeral or m.ephemeral_to is None)]

    def root_messages(self, channel: str) -> list[SlackMessage]:
        return [m for m in self.messages(channel) if not m.is_reply]

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        return next((m for m in self.messages(channel) if m.ts == ts), None)

    def thread(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        """The root (when known) and its replies, oldest first."""
        return [m for m in self.messages(channel) if m.ts == thread_ts or m.thread_ts == thread_ts]

    def replies_in_thread(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        return [m for m in self.thread(channel, thread_ts) if m.ts != thread_ts]

    def bot_replies(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        return [m for m in self.replies_in_thread(channel, thread_ts) if m.is_bot]

    def ephemerals(self, channel: str, user: str | None = None) -> list[SlackMessage]:
        return [m for m in self.channels.get(channel, [])
                if m.ephemeral_to is not None and (user is None or m.ephemeral_to == user)]

    def files_in_thread(self, channel: str, thread_ts: str) -> list[SlackFile]:
        return [f for m in self.replies_in_thread(channel, thread_ts) for f in m.files]

    # A deadline parameter is this helper's whole point (tests read `timeout=`).
    async def wait_for(
        self,
        predicate: Callable[[], T | Awaitable[T]],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        what: str | None = None,
    ) -> T:
        """Return the predicate's first truthy value; re-checked on every change to the
        simulator's state (and every 50 ms for state that lives elsewhere)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self._changed.clear()
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"SlackSimulator.wait_for timed out after {timeout}s: "
                                   f"{what or getattr(predicate, '__name__', 'predicate')}")
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    def render_conversation(self, channel: str) -> str:
        """The channel as a person would read it: roots, indented thread replies, edits
        applied, streamed text joined, files listed."""
        lines = [f"#{self.channel_names.get(channel, channel)}"]
        for root in self.root_messages(channel):
            lines.extend(self._render_message(root, indent=""))
            for reply in self.replies_in_thread(channel, root.ts):
                lines.extend(self._render_message(reply, indent="    ↳ "))
        return "\n".join(lines)

    def _render_message(self, msg: SlackMessage, *, indent: str) -> list[str]:
        when = datetime.fromtimestamp(float(msg.ts), UTC).strftime("%H:%M:%S")
        who = self.users[msg.user].name if msg.user in self.users else (msg.user or "?")
        flags = (" (edited)" if msg.edits else "") + (" (streaming…)" if msg.streaming else "")
        body = msg.text or _blocks_text(msg.blocks)
        pad = " " * len(indent)
        text_lines = body.splitlines() or [""]
        out = [f"{indent}[{when}] {who}{flags}: {text_lines[0]}"]
        out.extend(f"{pad}  {line}" for line in text_lines[1:])
        if msg.text and msg.blocks:
            extra = _blocks_text([b for b in msg.blocks if b.get("type") in ("context", "context_actions")])
            out.extend(f"{pad}  {line}" for line in extra.splitlines())
        out.extend(f"{pad}  [file] {f.title or f.name} ({len(f.content or b'')} bytes)" for f in msg.files)
        return out

    # ---- HTTP ------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        token = _bearer(request) or params.pop("token", None)
        call = SlackCall(method=method, params=params, status=200, ok=True, token=token)
        self.calls.append(call)
        headers: dict[str, str] = {}
        try:
            injected = self._injected_failure(method)
            if injected is not None:
                call.status = injected.status
                if injected.retry_after is not None and injected.status == 429:
                    headers["Retry-After"] = str(injected.retry_after)
                raise SimError(injected.error)
            if token != self.bot_token:
                raise SimError("not_authed" if not token else "invalid_auth")
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            if handler is None:
                raise SimError("unknown_method")
            body: JSON = {"ok": True, **handler(params)}
        except SimError as err:
            call.ok, call.error = False, err.code
            body = {"ok": False, "error": err.code}
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

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        target = self._response_urls.get(request.match_info["key"])
        if target is None:
            return web.Response(status=404, text="no_response_url")
        body = await request.json()
        channel, user = target
        self.responses.append({"channel": channel, "user": user, "body": body})
        if body.get("response_type") == "in_channel":
            self._post(channel, body.get("text", ""), body.get("blocks"), body.get("thread_ts"))
        else:
            self._post(channel, body.get("text", ""), body.get("blocks"), body.get("thread_ts"),
                       ephemeral_to=user)
        self._touch()
        return web.Response(text="ok", content_type="text/plain")

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

    # ---- model helpers ---------------------------------------------------------------------

    def _touch(self) -> None:
        self._changed.set()

    def _next_ts(self) -> str:
        # Unique and strictly increasing, like Slack's per-channel message ts.
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        sec, usec = divmod(self._last_ts_us, 1_000_000)
        return f"{sec}.{usec:06d}"

    def _channel(self, channel: str | None, *, create: bool = False) -> list[SlackMessage]:
        if not channel:
            raise SimError("channel_not_found")
        if channel not in self.channels:
            if self.strict_channels and not create:
                raise SimError("channel_not_found")
            self.add_channel(channel)
        return self.channels[channel]

    def _bot_message(self, channel: str, ts: str) -> SlackMessage:
        msg = self.message(channel, ts)
        if msg is None:
            raise SimError("message_not_found")
        if not msg.is_bot:
            raise SimError("cant_update_message")
        return msg

    def _post(self, channel: str, text: str, blocks: list[JSON] | None, thread_ts: str | None, *,
              ephemeral_to: str | None = None) -> SlackMessage:
        msg = SlackMessage(channel=channel, ts=self._next_ts(), text=text or "", user=self.bot_user_id,
                           bot_id=self.bot_id, thread_ts=thread_ts or None, blocks=list(blocks or []),
                           ephemeral_to=ephemeral_to)
        self._channel(channel).append(msg)
        return msg

    # ---- Web API methods (each returns the fields next to "ok": true) ----------------------

    def _m_api_test(self, p: JSON) -> JSON:
        return {"args": p}

    def _m_auth_test(self, p: JSON) -> JSON:
        return {"url": "https://sim.slack.com/", "team": "Simulated", "user": "aiops",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    def _m_chat_postMessage(self, p: JSON) -> JSON:
        text, blocks = _content(p, required=True)
        msg = self._post(str(p.get("channel", "")), text, blocks, _str(p.get("thread_ts")))
        msg.metadata = p.get("metadata")
        return {"channel": msg.channel, "ts": msg.ts, "message": msg.to_api()}

    def _m_chat_postEphemeral(self, p: JSON) -> JSON:
        text, blocks = _content(p, required=True)
        user = _str(p.get("user"))
        if not user or user not in self.users:
            raise SimError("user_not_in_channel")
        msg = self._post(str(p.get("channel", "")), text, blocks, _str(p.get("thread_ts")), ephemeral_to=user)
        return {"message_ts": msg.ts}

    def _m_chat_update(self, p: JSON) -> JSON:
        channel = str(p.get("channel", ""))
        self._channel(channel)
        msg = self._bot_message(channel, str(p.get("ts", "")))
        text, blocks = _content(p, required=False)
        msg.edits.append({"text": msg.text, "blocks": msg.blocks})
        if "text" in p or "markdown_text" in p:
            msg.text = text
        if "blocks" in p:
            msg.blocks = blocks
        return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": msg.to_api()}

    def _m_chat_delete(self, p: JSON) -> JSON:
        channel = str(p.get("channel", ""))
        self._channel(channel)
        msg = self._bot_message(channel, str(p.get("ts", "")))
        msg.deleted = True
        return {"channel": channel, "ts": msg.ts}

    def _m_chat_startStream(self, p: JSON) -> JSON:
        channel = str(p.get("channel", ""))
        if not p.get("thread_ts"):
            raise SimError("missing_thread_ts")
        # Slack needs both recipients to stream (documented for channels; enforced for DMs too).
        for key in ("recipient_team_id", "recipient_user_id"):
            if not p.get(key):
                raise SimError(f"missing_{key}")
        msg = self._post(channel, "", None, _str(p.get("thread_ts")))
        msg.streaming = True
        self._append_chunks(msg, p)
        return {"channel": channel, "ts": msg.ts}

    def _m_chat_appendStream(self, p: JSON) -> JSON:
        msg = self._streaming(p)
        if not p.get("markdown_text") and not p.get("chunks"):
            raise SimError("no_text")
        self._append_chunks(msg, p)
        return {"channel": msg.channel, "ts": msg.ts}

    def _m_chat_stopStream(self, p: JSON) -> JSON:
        msg = self._streaming(p)
        self._append_chunks(msg, p)
        if p.get("blocks"):
            msg.blocks = list(p["blocks"])
        msg.metadata = p.get("metadata")
        msg.streaming = False
        return {"channel": msg.channel, "ts": msg.ts, "message": msg.to_api()}

    def _streaming(self, p: JSON) -> SlackMessage:
        channel = str(p.get("channel", ""))
        self._channel(channel)
        msg = self._bot_message(channel, str(p.get("ts", "")))
        if not msg.streaming:
            raise SimError("message_not_in_streaming_state")
        return msg

    def _append_chunks(self, msg: SlackMessage, p: JSON) -> None:
        chunks = p.get("chunks") or []
        if not isinstance(chunks, list) or not all(isinstance(c, dict) for c in chunks):
            raise SimError("invalid_chunks_format")
        chunks = list(chunks)
        if p.get("markdown_text"):
            chunks.insert(0, {"type": "markdown_text", "text": p["markdown_text"]})
        for chunk in chunks:
            if chunk.get("type") == "markdown_text":
                if len(chunk.get("text", "")) > MAX_MARKDOWN:
                    raise SimError("msg_too_long")
                msg.text += chunk.get("text", "")
        msg.chunks.extend(chunks)

    def _m_assistant_threads_setStatus(self, p: JSON) -> JSON:
        if not p.get("channel_id") or not p.get("thread_ts") or "status" not in p:
            raise SimError("invalid_arguments")
        self._channel(str(p["channel_id"]))
        self.statuses.append({"channel_id": p["channel_id"], "thread_ts": p["thread_ts"],
                              "status": p["status"]})
        return {}

    def _m_users_info(self, p: JSON) -> JSON:
        user = self.users.get(str(p.get("user", "")))
        if user is None:
            raise SimError("user_not_found")
        return {"user": user.to_api(self.team_id)}

    def _m_conversations_replies(self, p: JSON) -> JSON:
        channel = str(p.get("channel", ""))
        if channel not in self.channels:
            raise SimError("channel_not_found")
        ts = str(p.get("ts", ""))
        msg = self.message(channel, ts)
        if msg is None:
            raise SimError("thread_not_found")
        thread = [msg] if msg.is_reply else self.thread(channel, ts)
        out = [m.to_api() for m in thread]
        replies = thread[1:]
        if replies:
            out[0].update(reply_count=len(replies), latest_reply=replies[-1].ts,
                          reply_users=sorted({r.user for r in replies if r.user}))
        return {"messages": out, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _m_files_getUploadURLExternal(self, p: JSON) -> JSON:
        if not p.get("filename") or not str(p.get("length", "")).isdigit():
            raise SimError("invalid_arguments")
        f = SlackFile(id=f"F{next(self._ids):08d}", name=str(p["filename"]), length=int(p["length"]),
                      alt_txt=_str(p.get("alt_txt")))
        self.files[f.id] = f
        return {"upload_url": f"{self.url}upload/v1/{f.id}", "file_id": f.id}

    def _m_files_completeUploadExternal(self, p: JSON) -> JSON:
        entries = p.get("files")
        if not isinstance(entries, list) or not entries:
            raise SimError("invalid_arguments")
        done: list[SlackFile] = []
        for entry in entries:
            f = self.files.get(str(entry.get("id", "")))
            if f is None or f.content is None:
                raise SimError("file_not_found")
            f.title = entry.get("title") or f.name
            done.append(f)
        channel = _str(p.get("channel_id")) or (_str(p.get("channels")) or "").split(",")[0] or None
        if channel:
            msg = self._post(channel, str(p.get("initial_comment") or ""), None, _str(p.get("thread_ts")))
            for f in done:
                f.channel, f.thread_ts = channel, _str(p.get("thread_ts"))
            msg.files.extend(done)
        return {"files": [f.to_api() for f in done]}


# ---- request parsing -----------------------------------------------------------------------


async def _read_params(request: web.Request) -> JSON:
    params: JSON = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
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


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _content(p: JSON, *, required: bool) -> tuple[str, list[JSON]]:
    blocks = p.get("blocks") or []
    if not isinstance(blocks, list):
        raise SimError("invalid_blocks_format")
    if len(blocks) > MAX_BLOCKS:
        raise SimError("invalid_blocks")
    text = str(p.get("text") or p.get("markdown_text") or "")
    if len(text) > MAX_TEXT or len(str(p.get("markdown_text") or "")) > MAX_MARKDOWN:
        raise SimError("msg_too_long")
    if required and not text and not blocks and not p.get("attachments"):
        raise SimError("no_text")
    return text, blocks


def _blocks_text(blocks: list[JSON]) -> str:
    """Roughly what Slack shows for blocks: section/markdown/context text and button labels."""
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "section" and isinstance(b.get("text"), dict):
            out.append(str(b["text"].get("text", "")))
        elif kind == "markdown":
            out.append(str(b.get("text", "")))
        elif kind == "header" and isinstance(b.get("text"), dict):
            out.append(f"*{b['text'].get('text', '')}*")
        elif kind == "context":
            out.append(" · ".join(str(e.get("text", "")) for e in b.get("elements", []) if "text" in e))
        elif kind == "image":
            out.append(f"[image] {b.get('alt_text', '')}")
        elif kind in ("actions", "context_actions"):
            labels = []
            for e in b.get("elements", []):
                if e.get("type") == "feedback_buttons":
                    labels += [e.get(k, {}).get("text", {}).get("text", "") for k in
                               ("positive_button", "negative_button")]
                elif isinstance(e.get("text"), dict):
                    labels.append(str(e["text"].get("text", "")))
            out.append(" ".join(f"[{label}]" for label in labels))
        elif kind == "rich_text":
            out.append(_rich_text(b))
    return "\n".join(x for x in out if x)


def _rich_text(node: JSON) -> str:
    if "text" in node and isinstance(node["text"], str):
        return node["text"]
    return "".join(_rich_text(e) for e in node.get("elements", []) if isinstance(e, dict))
