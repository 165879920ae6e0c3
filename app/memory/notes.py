"""Notes in PostgreSQL and the block the model sees.

A note belongs to the namespaces of the channel it was written in and reaches the model only when
the asker's scope covers every one of them — inside `<team_notes>` data tags, as knowledge, never
as instructions. The injection guard runs when a note is written (a flagged note is kept for admins
to review but never shown to the model) and again, with secret redaction, when it is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from kernel.scope import EffectiveScope
from tools import sanitize

MAX_NOTE_CHARS = 1000
MAX_NOTES_IN_PROMPT = 20


@dataclass(frozen=True)
class Note:
    id: int
    channel_id: str
    namespaces: list[str]
    note: str
    flagged: str | None
    created_by: str
    created_at: datetime


class NoteStore:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, *, channel_id: str, namespaces: frozenset[str], note: str, created_by: str) -> Note:
        text = sanitize.redact_secrets(note.strip())[:MAX_NOTE_CHARS]
        row = await self._pool.fetchrow(
            "INSERT INTO team_notes (channel_id, namespaces, note, flagged, created_by) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING *",
            channel_id,
            sorted(namespaces),
            text,
            sanitize.find_injection(note),
            created_by,
        )
        return Note(**dict(row))

    async def in_channel(self, channel_id: str) -> list[Note]:
        rows = await self._pool.fetch(
            "SELECT * FROM team_notes WHERE channel_id = $1 ORDER BY id", channel_id
        )
        return [Note(**dict(r)) for r in rows]

    async def delete(self, channel_id: str, note_id: int) -> bool:
        status: str = await self._pool.execute(
            "DELETE FROM team_notes WHERE channel_id = $1 AND id = $2", channel_id, note_id
        )
        return status == "DELETE 1"

    async def for_scope(self, scope: EffectiveScope) -> list[Note]:
        """Clean notes whose every namespace this scope may read (newest first, bounded)."""
        if scope.namespaces is None:
            rows = await self._pool.fetch(
                "SELECT * FROM team_notes WHERE flagged IS NULL ORDER BY id DESC LIMIT $1",
                MAX_NOTES_IN_PROMPT,
            )
        else:
            rows = await self._pool.fetch(
                "SELECT * FROM team_notes WHERE flagged IS NULL AND namespaces <@ $1::text[] "
                "ORDER BY id DESC LIMIT $2",
                sorted(scope.namespaces),
                MAX_NOTES_IN_PROMPT,
            )
        return [Note(**dict(r)) for r in rows if all(scope.allows(ns) for ns in r["namespaces"])]

    async def block_for(self, scope: EffectiveScope) -> str | None:
        """The `<team_notes>` data block for this asker, or None when no note applies."""
        notes = await self.for_scope(scope)
        items = []
        for n in notes:
            text, offending, _ = sanitize.clean_long_text(n.note)
            if offending:
                continue  # defence in depth: a pattern added since it was written
            items.append(
                {"namespaces": n.namespaces, "written": n.created_at.date().isoformat(), "note": text}
            )
        if not items:
            return None
        return f"<team_notes>{sanitize.escaped_json(items)}</team_notes>"

    async def purge(self, *, older_than: timedelta, dry_run: bool = False) -> int:
        if dry_run:
            return int(
                await self._pool.fetchval(
                    "SELECT count(*) FROM team_notes WHERE created_at < now() - $1::interval", older_than
                )
            )
        status: str = await self._pool.execute(
            "DELETE FROM team_notes WHERE created_at < now() - $1::interval", older_than
        )
        return int(status.split()[-1])
