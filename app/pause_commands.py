"""`/aiops pause` and `/aiops resume` (admins only): flip the tools kill switch for every worker.

The flag lives in Redis (`RedisPauseSwitch`), so every worker honours it within a second and it
stays until an admin resumes. Both commands — and a refusal — are audited as `admin` events
with who did it; the user gets a short private answer.
"""

from __future__ import annotations

import logging

from app.agent.pause import RedisPauseSwitch
from app.jobs import Job
from app.worker import IdentityResolver
from kernel.audit import AuditEvent, AuditSink
from kernel.errors import AuthFailure
from kernel.scope import EffectiveScope

log = logging.getLogger(__name__)

PAUSE_COMMANDS = frozenset({"pause", "resume"})

PAUSED = ":double_vertical_bar: Tool calls are paused for every worker until an admin runs `/aiops resume`."
RESUMED = ":arrow_forward: Tool calls are resumed."
ADMIN_ONLY = "Only admins can pause or resume the assistant's tool calls."


class PauseCommands:
    def __init__(self, *, switch: RedisPauseSwitch, identity: IdentityResolver, audit: AuditSink) -> None:
        self._switch = switch
        self._identity = identity
        self._audit = audit

    async def run(self, job: Job) -> str:
        """The private answer for `/aiops pause|resume`; the flag changes only for an admin."""
        name = (job.command or "").lower()
        try:
            scope = await self._identity.scope_for(job)
        except AuthFailure as exc:
            return exc.user_message
        admin = "admin" in scope.identity.roles
        await self._audit.write(AuditEvent(
            event_type="admin",
            user_id=scope.user_id,
            session_id=job.session_id,
            user_message=f"/aiops {name}",
            failure_reason=None if admin else "not_admin",
            ip_address=job.ip_address,
        ))
        if not admin:
            return ADMIN_ONLY
        await self._switch.set(name == "pause")
        log.warning("tools %s by %s", "paused" if name == "pause" else "resumed", scope.user_id)
        return PAUSED if name == "pause" else RESUMED


class PauseAwareIdentity:
    """The worker's identity resolver with `/aiops pause|resume` answered here (both are in
    app.worker.IDENTITY_COMMANDS, the commands answered privately); everything else is the
    identity service's."""

    def __init__(self, identity: IdentityResolver, commands: PauseCommands) -> None:
        self._identity = identity
        self._commands = commands

    async def scope_for(self, job: Job) -> EffectiveScope:
        return await self._identity.scope_for(job)

    async def command(self, job: Job) -> str:
        if (job.command or "").lower() in PAUSE_COMMANDS:
            return await self._commands.run(job)
        return await self._identity.command(job)
