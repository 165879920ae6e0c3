"""More private slash commands for the worker, by name (`/aiops audit <id>`, …): the worker
answers every name in IDENTITY_COMMANDS through its resolver's `command()`; this wrapper takes
the names it knows and hands the rest to the identity service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from app.jobs import Job
from kernel.errors import AuthFailure
from kernel.scope import EffectiveScope

Command = Callable[[Job], Awaitable[str]]


class WithCommands:
    def __init__(self, identity: Any, commands: Mapping[str, Command]) -> None:
        self._identity = identity
        self._commands = dict(commands)

    async def scope_for(self, job: Job) -> EffectiveScope:
        scope: EffectiveScope = await self._identity.scope_for(job)
        return scope

    async def command(self, job: Job) -> str:
        run = self._commands.get(str(job.command))
        text: str = await (run(job) if run is not None else self._identity.command(job))
        return text

    def __getattr__(self, name: str) -> Any:  # everything else is the identity service's
        return getattr(self._identity, name)


class ChannelIdentity(Protocol):
    """What a private command needs of the identity service: the asker's scope, a channel's scope."""

    async def scope_for(self, job: Job) -> EffectiveScope: ...

    def channel_scope(self, channel_id: str | None) -> frozenset[str] | None: ...


async def scope_or_refusal(identity: ChannelIdentity, job: Job) -> EffectiveScope | str:
    """The asker's scope, or the refusal to show them (already audited by the identity service)."""
    try:
        return await identity.scope_for(job)
    except AuthFailure as exc:
        return exc.user_message
