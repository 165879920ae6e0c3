"""`/aiops remember <note>` and `/aiops memory [delete ID]`.

Analysts and admins write and delete notes, in channels with a listed namespace scope (the note
belongs to those namespaces); everyone sees the notes their own scope covers. Admins also get the
review queue: the newest answers rated 👎 (and the count of 👍). Writes and deletes are `admin`
audit events; a note that trips the injection guard also writes a `security` row.
"""

from __future__ import annotations

import asyncpg

from app.commands import ChannelIdentity, scope_or_refusal
from app.jobs import Job
from app.memory.notes import NoteStore
from kernel.audit import AuditEvent, AuditSink
from kernel.scope import EffectiveScope

REMEMBER, MEMORY = "remember", "memory"
WRITERS_ONLY = "Only analysts and admins can change team memory (your roles: {roles})."
NEEDS_LISTED_SCOPE = (
    "Team notes belong to a channel's namespaces: write them in a channel with a listed namespace scope."
)
FLAGGED = (
    "Stored, but flagged: the note reads like an instruction to the model ({kind}), so it will never "
    "be shown to it. An admin can review it with `/aiops memory`."
)
USAGE = "Usage: `/aiops remember <what the team should know>`, `/aiops memory`, `/aiops memory delete ID`."
REVIEW_LIMIT = 10


class MemoryCommands:
    def __init__(self, *, identity: ChannelIdentity, pool: asyncpg.Pool, audit: AuditSink) -> None:
        self._identity = identity
        self._notes = NoteStore(pool=pool)
        self._pool = pool
        self._audit = audit

    async def __call__(self, job: Job) -> str:
        scope = await scope_or_refusal(self._identity, job)
        if isinstance(scope, str):
            return scope
        word, _, rest = job.text.strip().partition(" ")
        if word.lower() == REMEMBER:
            return await self._remember(job, scope, rest.strip())
        args = rest.split()
        if args[:1] == ["delete"] and len(args) == 2 and args[1].isdigit():
            return await self._delete(job, scope, int(args[1]))
        if args:
            return USAGE
        return await self._list(job, scope)

    def _writer_problem(self, job: Job, scope: EffectiveScope) -> str | None:
        if not scope.may_recommend:  # analyst or admin
            return WRITERS_ONLY.format(roles=", ".join(sorted(scope.identity.roles)) or "none")
        if not self._identity.channel_scope(job.channel_id):
            return NEEDS_LISTED_SCOPE
        return None

    async def _remember(self, job: Job, scope: EffectiveScope, text: str) -> str:
        if problem := self._writer_problem(job, scope):
            return problem
        if not text:
            return USAGE
        channel_ns = self._identity.channel_scope(job.channel_id) or frozenset()
        note = await self._notes.add(
            channel_id=job.channel_id, namespaces=channel_ns, note=text, created_by=scope.user_id
        )
        await self._record("admin", scope, job, f"remember note #{note.id} for {', '.join(note.namespaces)}")
        if note.flagged:
            await self._record("security", scope, job, None, reason="prompt_injection")
            return FLAGGED.format(kind=note.flagged)
        where = ", ".join(note.namespaces)
        return f"Noted (#{note.id}) for {where}. I'll use it when answering questions there."

    async def _delete(self, job: Job, scope: EffectiveScope, note_id: int) -> str:
        if problem := self._writer_problem(job, scope):
            return problem
        if not await self._notes.delete(job.channel_id, note_id):
            return f"No note #{note_id} in this channel."
        await self._record("admin", scope, job, f"memory delete note #{note_id}")
        return f"Deleted note #{note_id}."

    async def _list(self, job: Job, scope: EffectiveScope) -> str:
        notes = [
            n
            for n in await self._notes.in_channel(job.channel_id)
            if all(scope.allows(x) for x in n.namespaces)
        ]
        lines = [
            f"• #{n.id} ({', '.join(n.namespaces)}, {n.created_at:%Y-%m-%d})"
            f"{' ⚠️ flagged' if n.flagged else ''}: {n.note}"
            for n in notes
            if not n.flagged or scope.may_run_jobs
        ]
        out = (
            ("Team notes here:\n" + "\n".join(lines))
            if lines
            else "No team notes in this channel yet. " + USAGE
        )
        if scope.may_run_jobs:
            out += "\n\n" + await self._review()
        return out

    async def _review(self) -> str:
        rows = await self._pool.fetch(
            "SELECT DISTINCT ON (audit_id, slack_user_id) audit_id, rating, created_at FROM feedback "
            "ORDER BY audit_id, slack_user_id, created_at DESC"
        )
        bad = sorted((r for r in rows if r["rating"] == "bad"), key=lambda r: r["created_at"], reverse=True)
        good = sum(1 for r in rows if r["rating"] == "good")
        items = [
            f"• 👎 audit ref `{str(r['audit_id'])[:8]}` ({r['created_at']:%Y-%m-%d})"
            for r in bad[:REVIEW_LIMIT]
        ]
        head = f"Review queue: {len(bad)} answer(s) rated 👎, {good} rated 👍."
        return "\n".join([head, *items]) + ("\nRead one with `/aiops audit <id>`." if items else "")

    async def _record(
        self, kind: str, scope: EffectiveScope, job: Job, what: str | None, *, reason: str | None = None
    ) -> None:
        await self._audit.write(
            AuditEvent(
                event_type="admin" if kind == "admin" else "security",
                user_id=scope.user_id,
                session_id=job.session_id,
                user_message=what,
                failure_reason=reason,
            )
        )
