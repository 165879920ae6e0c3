"""Exported lines vs the rows PostgreSQL still holds, for one day: a merge of two streams in
the same (timestamp, id) order — constant memory however large the day. Identical lines (the
common case) are compared as strings without parsing."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO

import asyncpg

from app.audit.rows import ROWS_BY_ID, RowKey, day_lines

MAX_IDS = 1000  # ids kept per kind (counts stay exact)


@dataclass
class Diff:
    exported: int = 0
    modified: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    missing_count: int = 0
    added_count: int = 0

    def _keep(self, ids: list[str], value: str) -> None:
        if len(ids) < MAX_IDS:
            ids.append(value)


def export_lines(gz_file: IO[bytes]) -> Iterator[str]:
    with gzip.GzipFile(fileobj=gz_file, mode="rb") as gz:
        for raw in gz:
            yield raw.decode().rstrip("\n")


async def _next(it: AsyncIterator[str]) -> str | None:
    try:
        return await anext(it)
    except StopAsyncIteration:
        return None


async def compare_day(pool: asyncpg.Pool, day: date, gz_file: IO[bytes]) -> Diff:
    diff = Diff()
    exp = export_lines(gz_file)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        db = day_lines(conn, day).__aiter__()
        e, d = next(exp, None), await _next(db)
        while e is not None or d is not None:
            if e is not None and e == d:
                diff.exported += 1
                e, d = next(exp, None), await _next(db)
                continue
            ke = RowKey.of(e) if e is not None else None
            kd = RowKey.of(d) if d is not None else None
            if ke is not None and ke == kd:
                diff.exported += 1
                diff._keep(diff.modified, ke.id)
                e, d = next(exp, None), await _next(db)
            elif ke is not None and (kd is None or (ke.timestamp, ke.id) < (kd.timestamp, kd.id)):
                diff.exported += 1
                diff.missing_count += 1
                diff._keep(diff.missing, ke.id)
                e = next(exp, None)
            else:
                assert kd is not None
                diff.added_count += 1
                diff._keep(diff.added, kd.id)
                d = await _next(db)
    await _moved_rows(pool, diff)
    return diff


async def _moved_rows(pool: asyncpg.Pool, diff: Diff) -> None:
    """A row whose timestamp was changed leaves its place in the export: it still exists (in this
    day at another position, or another day) — that is a modification, not a deletion."""
    if not diff.missing:
        return
    found = {r["id"] for r in await pool.fetch(ROWS_BY_ID, diff.missing)}
    for row_id in [m for m in diff.missing if m in found]:
        diff.missing.remove(row_id)
        diff.missing_count -= 1
        if row_id in diff.added:
            diff.added.remove(row_id)
            diff.added_count -= 1
        diff._keep(diff.modified, row_id)
