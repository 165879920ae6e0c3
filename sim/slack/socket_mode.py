"""Slack's Socket Mode, server side: `apps.connections.open` (app-level token) hands out a
WebSocket URL; the connection gets `hello`, then envelopes (`events_api`, `slash_commands`,
`interactive`) that the app must acknowledge by sending back `{"envelope_id": …}` — as
slack_sdk's `SocketModeClient` and Bolt's `AsyncSocketModeHandler` expect.

Used through `SlackSimulator(app_token=…)`: `await sim.socket.wait_connected()`, then
`await sim.socket.send_event(envelope)` → envelope id, `sim.socket.acks` for what came back.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from aiohttp import WSMsgType, web

JSON = dict[str, Any]


class SocketModeServer:
    def __init__(self, *, app_id: str) -> None:
        self.app_id = app_id
        self.acks: dict[str, JSON] = {}
        """envelope_id → what the app sent back for it."""
        self.connections = 0
        self._keys: set[str] = set()
        self._ws: web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._acked = asyncio.Condition()

    def new_url(self, base_url: str) -> str:
        """A one-time connection URL, as apps.connections.open returns (ws:// on loopback)."""
        key = secrets.token_urlsafe(12)
        self._keys.add(key)
        return base_url.replace("http://", "ws://", 1) + f"socket-mode/{key}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        if key not in self._keys:
            return web.Response(status=403, text="invalid connection URL")
        self._keys.discard(key)  # Slack's URLs are single-use
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._ws, self.connections = ws, self.connections + 1
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "sim", "approximate_connection_time": 3600},
                            "connection_info": {"app_id": self.app_id}})
        self._connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await self._on_text(msg.data)
        if self._ws is ws:
            self._ws = None
            self._connected.clear()
        return ws

    async def _on_text(self, data: str) -> None:
        try:
            body = json.loads(data)
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("envelope_id"), str):
            async with self._acked:
                self.acks[body["envelope_id"]] = body
                self._acked.notify_all()

    async def wait_connected(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def send(self, kind: str, payload: JSON, *, retry_attempt: int = 0) -> str:
        """Deliver one envelope; returns its envelope_id."""
        if self._ws is None:
            raise RuntimeError("no Socket Mode connection")
        envelope_id = secrets.token_hex(8)
        await self._ws.send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                  "accepts_response_payload": kind != "events_api",
                                  "retry_attempt": retry_attempt, "retry_reason": ""})
        return envelope_id

    async def send_event(self, event_callback: JSON, *, retry_attempt: int = 0) -> str:
        return await self.send("events_api", event_callback, retry_attempt=retry_attempt)

    async def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> JSON:  # noqa: ASYNC109
        async with self._acked:
            await asyncio.wait_for(self._acked.wait_for(lambda: envelope_id in self.acks), timeout)
        return self.acks[envelope_id]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
