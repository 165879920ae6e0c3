"""One Lua script, called by many concurrent requests over one pipelined Redis connection.

The ack path makes exactly one Redis call per event. Through redis-py's client each call pays
a pool checkout, a command packing pass, a write syscall and a read wake-up of its own; here
calls made in the same event-loop turn are packed by hand, written together, and their
replies (which Redis returns in order) are handed back in FIFO order by one reader. Still one
round trip per event — only the fixed costs are shared.

The connection comes from the client's own pool, so URL, TLS, password and database are
whatever the rest of the process uses. A connection error fails every call in flight (the
ack path answers 5xx and Slack retries) and the next call connects again. EVAL (not EVALSHA)
so a Redis restart or SCRIPT FLUSH can never turn into NOSCRIPT failures.

Replies are parsed here (`_Replies`), where the bytes arrive: the connection's stream hands
its data straight to us instead of buffering it for a reader to wake up for, and a command is
written at once when nothing is in flight (batched to the end of the loop turn otherwise).
redis-py's reader costs a parser pass, a timeout context and a coroutine per reply, and each
extra task wake-up an event-loop pass: on the ack path these were the largest costs after
aiohttp itself. The connection is therefore ours until `aclose`/a failure, which disconnect it
before the pool sees it again. Our scripts answer with integers, errors or strings; anything
else (an array) is a protocol surprise that fails the connection like a connection error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import redis.asyncio as aioredis
from redis._parsers.base import BaseParser
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError

log = logging.getLogger(__name__)


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


_INCOMPLETE = object()


class _Replies:
    """RESP replies out of a byte buffer: ints, errors (redis-py's classes), strings, nulls."""

    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0

    def feed(self, data: bytes) -> None:
        self._buf = self._buf[self._pos:] + data if self._pos < len(self._buf) else data
        self._pos = 0

    def next(self) -> Any:
        """The next complete reply, or `_INCOMPLETE`."""
        buf, pos = self._buf, self._pos
        end = buf.find(b"\r\n", pos)
        if end < 0:
            return _INCOMPLETE
        kind, line = buf[pos:pos + 1], buf[pos + 1:end]
        after = end + 2
        if kind == b":":
            reply: Any = int(line)
        elif kind in (b"-", b"!"):  # error, RESP3 bulk error (its body follows)
            if kind == b"!":
                size = int(line)
                if len(buf) < after + size + 2:
                    return _INCOMPLETE
                line, after = buf[after:after + size], after + size + 2
            # redis-py's classes: LOADING → BusyLoadingError (retried), READONLY → ReadOnlyError, …
            reply = BaseParser.parse_error(line.decode("utf-8", "replace"))  # type: ignore[no-untyped-call]
        elif kind == b"+":
            reply = line
        elif kind == b"$":
            size = int(line)
            if size < 0:
                reply = None
            else:
                if len(buf) < after + size + 2:
                    return _INCOMPLETE
                reply, after = buf[after:after + size], after + size + 2
        elif kind == b"_":
            reply = None
        else:
            raise RedisConnectionError(f"unexpected reply type {kind!r} on the ack-path connection")
        self._pos = after
        return reply


class PipelinedScript:
    def __init__(self, *, redis: aioredis.Redis, script: str) -> None:
        self._pool = redis.connection_pool
        self._script = _bulk(b"EVAL") + _bulk(script.encode())
        self._conn: AbstractConnection | None = None
        self._connecting: asyncio.Lock = asyncio.Lock()
        self._out: list[bytes] = []
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._flushing = False
        self._tasks: set[asyncio.Task[None]] = set()

    def _pack(self, keys: list[str], args: list[str | int | bytes]) -> bytes:
        values = [
            a if isinstance(a, bytes) else a.encode() if isinstance(a, str) else b"%d" % a
            for a in (*keys, *args)
        ]
        head = b"*%d\r\n%s$%d\r\n%d\r\n" % (
            3 + len(values), self._script, len(str(len(keys))), len(keys)
        )
        return head + b"".join(b"$%d\r\n%s\r\n" % (len(v), v) for v in values)

    async def __call__(self, keys: list[str], args: list[str | int | bytes]) -> Any:
        conn = self._conn or await self._connect()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        idle = not self._waiters
        self._waiters.append(future)  # with its command, no await in between: replies come in order
        self._out.append(self._pack(keys, args))
        if idle and not self._flushing:
            self._write(conn)  # nothing in flight: no reason to wait for the end of the loop turn
        elif not self._flushing:
            self._flushing = True  # more calls this turn: they go out together
            asyncio.get_running_loop().call_soon(self._flush)
        return await future

    async def _connect(self) -> AbstractConnection:
        async with self._connecting:
            if self._conn is None:
                conn = await self._pool.get_connection()  # type: ignore[no-untyped-call]
                self._take_replies(conn)
                self._conn = conn
            return self._conn

    def _take_replies(self, conn: AbstractConnection) -> None:
        """Replies are handled where the bytes arrive: the connection's stream hands its data to
        `_on_data` instead of buffering it for a reader task to wake up for. The connection is
        ours until `aclose`/`_drop`, which disconnect it (a new stream before anyone reuses it)."""
        stream: asyncio.StreamReader = conn._reader  # type: ignore[assignment]
        replies = _Replies()
        if stream._buffer:  # type: ignore[attr-defined]
            replies.feed(bytes(stream._buffer))  # type: ignore[attr-defined]
            stream._buffer.clear()  # type: ignore[attr-defined]

        def on_data(data: bytes) -> None:
            replies.feed(data)
            try:
                self._deliver(replies)
            except Exception as exc:
                self._drop(conn, exc)

        def on_eof() -> None:
            self._drop(conn, RedisConnectionError("Redis closed the ack-path connection"))

        def on_error(exc: BaseException) -> None:
            error = exc if isinstance(exc, Exception) else RedisConnectionError(type(exc).__name__)
            self._drop(conn, error)

        stream.feed_data = on_data  # type: ignore[method-assign,assignment]
        stream.feed_eof = on_eof  # type: ignore[method-assign]
        stream.set_exception = on_error  # type: ignore[method-assign]

    def _deliver(self, replies: _Replies) -> None:
        while (reply := replies.next()) is not _INCOMPLETE:
            if not self._waiters:
                raise RedisConnectionError("a reply nobody asked for on the ack-path connection")
            waiter = self._waiters.popleft()
            if waiter.done():
                continue
            if isinstance(reply, RedisConnectionError | ReadOnlyError):
                # Redis loading its data, or a replica after a failover: this connection is no use
                waiter.set_exception(reply)
                raise RedisConnectionError(f"ack-path Redis answered {type(reply).__name__}")
            if isinstance(reply, Exception):  # a script error: this call fails, not the connection
                waiter.set_exception(reply)
            else:
                waiter.set_result(reply)

    def _flush(self) -> None:
        """Every command of this loop turn in one write."""
        self._flushing = False
        if self._conn is not None:
            self._write(self._conn)  # (None: the connection failed, and its calls with it)

    def _write(self, conn: AbstractConnection) -> None:
        if not self._out:
            return
        data, self._out = b"".join(self._out), []
        try:
            conn._writer.write(data)  # type: ignore[union-attr]
        except Exception as exc:
            self._drop(conn, exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # keep a reference until done (the loop holds only a weak one)
        task.add_done_callback(self._tasks.discard)

    def _drop(self, conn: AbstractConnection, exc: Exception) -> None:
        """The connection is gone: every call in flight fails now, and the next call (even one made
        before the socket is closed) gets a new connection."""
        if self._conn is not conn:
            return
        self._conn = None
        self._fail_waiters(exc)
        self._spawn(self._close(conn))
        log.warning("ack-path Redis connection lost (%s)", type(exc).__name__)

    async def _close(self, conn: AbstractConnection) -> None:
        with contextlib.suppress(Exception):
            await conn.disconnect()
        with contextlib.suppress(Exception):
            await self._pool.release(conn)  # its slot back to the pool, as aclose does

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        self._fail_waiters(RedisConnectionError("closed"))
        with contextlib.suppress(Exception):
            await conn.disconnect()  # its stream was ours: a fresh one on the pool's next connect
        await self._pool.release(conn)

    def _fail_waiters(self, exc: Exception) -> None:
        waiters, self._waiters, self._out = self._waiters, deque(), []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(exc)
