"""Open-loop load at a constant arrival rate, with a client light enough not to be the
bottleneck: pre-built HTTP/1.1 requests written straight to asyncio transports (no aiohttp
client, whose per-request cost on a shared 2-core machine made a bare endpoint look slow).

Request i is due at t0 + i/rate whatever happened to the earlier ones; its latency counts from
when it was due, so a stall anywhere (client, server, Redis) shows (no coordinated omission).
A request goes out on an idle keep-alive connection, or a new one when all are busy.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class PacedResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    ok_ids: set[str] = field(default_factory=set)
    sent: int = 0
    wall: float = 0.0


Done = Callable[[int], None]


class _Conn(asyncio.Protocol):
    """One keep-alive connection; parses `HTTP/1.1 <status>` + Content-Length bodies."""

    def __init__(self, idle: list[_Conn], backlog: deque[tuple[bytes, Done]]) -> None:
        self._idle = idle
        self._backlog = backlog
        self._buf = b""
        self._done: Done | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._done is not None:
            done, self._done = self._done, None
            done(-1)

    def send(self, request: bytes, done: Done) -> None:
        assert self.transport is not None
        self._done = done
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self._buf[:end].decode("latin-1").split("\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if len(self._buf) < end + 4 + length:
            return
        self._buf = self._buf[end + 4 + length:]
        status = int(head[0].split()[1])
        done, self._done = self._done, None
        if self._backlog:  # requests that found every connection busy go next, in order
            self.send(*self._backlog.popleft())
        else:
            self._idle.append(self)
        if done is not None:
            done(status)


async def open_loop(
    host: str, port: int, requests: list[tuple[str, bytes]], *, rate: float, connections: int = 64,
    max_connections: int = 256,
) -> PacedResult:
    """Send (event_id, raw request) pairs at `rate` per second; wait for every answer. Beyond
    `max_connections` busy connections, requests wait in a FIFO (their latency still counts from
    when they were due) rather than opening ever more connections, as a proxy in front would."""
    loop = asyncio.get_running_loop()
    idle: list[_Conn] = []
    backlog: deque[tuple[bytes, Done]] = deque()
    opened = connections
    result = PacedResult()
    outstanding = len(requests)
    finished = loop.create_future()

    async def connect() -> _Conn:
        _, proto = await loop.create_connection(lambda: _Conn(idle, backlog), host, port)
        return proto

    for conn in await asyncio.gather(*(connect() for _ in range(connections))):
        idle.append(conn)

    def on_done(event_id: str, due: float) -> Done:
        def done(status: int) -> None:
            nonlocal outstanding
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status == 200:
                result.latencies.append(time.perf_counter() - due)
                result.ok_ids.add(event_id)
            outstanding -= 1
            if outstanding == 0 and not finished.done():
                finished.set_result(None)
        return done

    async def send_new(request: bytes, done: Done) -> None:
        conn = await connect()
        conn.send(request, done)

    started = time.perf_counter()
    t0 = started + 0.05
    pending: set[asyncio.Task[None]] = set()
    for i, (event_id, request) in enumerate(requests):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        result.sent += 1
        while idle and idle[-1].closed:
            idle.pop()
        if idle:
            idle.pop().send(request, on_done(event_id, due))
        elif opened >= max_connections:
            backlog.append((request, on_done(event_id, due)))
        else:
            opened += 1
            task = asyncio.ensure_future(send_new(request, on_done(event_id, due)))
            pending.add(task)
            task.add_done_callback(pending.discard)
    if requests:
        await asyncio.wait_for(finished, timeout=60)
    result.wall = time.perf_counter() - started
    for conn in idle:
        if conn.transport is not None:
            conn.transport.close()
    return result
