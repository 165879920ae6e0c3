"""The identity service: the one place a job's `EffectiveScope` comes from.

worker → `scope_for(job)` → provider (static | directory | device) → verified `Identity`
→ `effective_scope(identity, channel scope)` → handed to the agent and tool router unchanged.

Every failure is an `AuthFailure(reason, user_message)`; before raising, the service writes an
`auth_failure` audit row (user_id = Slack user id) and bumps `aiops_auth_failures{reason}`.
Any unexpected error is turned into `idp_unavailable`: fail closed, never a stack trace — except
a store outage (the link table unreachable), which is `StoreUnavailable`: nobody is refused for it.

Alert jobs run as a system identity (`alertmanager`, roles `alert_roles`, default viewer: query
access, no recommendations) whose namespaces are the alert's namespace(s), intersected with the
channel scope as for anyone else. An alert without a namespace label (or whose namespaces are
all outside the channel scope) gets an empty scope: the triage may read no data at all — no
namespaced data and no cluster-wide data — and the thread only shows the alert itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from redis.exceptions import RedisError

from app.identity import messages
from app.identity.binding import LinkRefused
from app.identity.channel_info import SharedChannels
from app.identity.claims import ClaimsInvalid, identity_from_claims, is_namespace
from app.identity.link_admin import audit_identity, links_command
from app.identity.login_runs import LoginRuns
from app.identity.pending import PendingLogins
from app.identity.provider import REASONS, IdentityProvider, LinkingProvider
from app.jobs import Job
from app.stores import is_store_outage
from kernel.audit import AuditEvent, AuditSink
from kernel.errors import AuthFailure, StoreUnavailable
from kernel.metrics import Metrics
from kernel.roles import permissions_for
from kernel.scope import EffectiveScope, Identity, effective_scope

log = logging.getLogger(__name__)

ThreadNamespaces = Callable[[str, str], Awaitable[frozenset[str] | None]]
"""(channel, thread ts) → the namespaces of the alert that opened the thread (app.thread_intake)."""
Notify = Callable[[str, str], Awaitable[None]]
"""notify(slack_user_id, text): tell a user privately (a DM) how a background login ended."""

ALERT_USER = "alertmanager"
COMMANDS = ("whoami", "login", "logout", "links", "help")


def alert_namespaces(alert: Mapping[str, Any] | None) -> frozenset[str]:
    """The namespaces an Alertmanager webhook payload is about (invalid names are dropped)."""
    if not alert:
        return frozenset()
    common = alert.get("commonLabels") or {}
    if isinstance(common, Mapping) and is_namespace(common.get("namespace")):
        return frozenset({common["namespace"]})
    found: set[str] = set()
    for item in alert.get("alerts") or []:
        labels = item.get("labels") if isinstance(item, Mapping) else None
        if isinstance(labels, Mapping) and is_namespace(labels.get("namespace")):
            found.add(labels["namespace"])
    return frozenset(found)


def is_dm(channel_id: str | None) -> bool:
    return bool(channel_id) and str(channel_id).startswith("D")


class IdentityService:
    def __init__(
        self,
        *,
        provider: IdentityProvider,
        channel_scopes: Mapping[str, frozenset[str]],
        audit: AuditSink,
        metrics: Metrics,
        incident_channel: str | None = None,
        notify: Notify | None = None,
        alert_roles: frozenset[str] = frozenset({"viewer"}),
        channel_default: str = "deny",
        shared_channels: SharedChannels | None = None,
        alert_thread: ThreadNamespaces | None = None,
        pending: PendingLogins | None = None,
    ) -> None:
        """`pending`: where device logins in flight are kept (Redis), so any worker finishes
        them; None → in this process only (tests of the polling mechanics)."""
        self._provider = provider
        self._channel_scopes = dict(channel_scopes)
        self._audit = audit
        self._metrics = metrics
        self._incident_channel = incident_channel
        self._notify = notify
        self._alert_roles = alert_roles
        if channel_default not in ("deny", "own"):
            raise ValueError("channel_default must be 'deny' or 'own'")
        self._channel_default = channel_default
        self._shared = shared_channels
        self._alert_thread = alert_thread
        self._logins = (
            LoginRuns(provider=provider, report=self._login_ended, pending=pending)
            if isinstance(provider, LinkingProvider)
            else None
        )

    @property
    def mode(self) -> str:
        return self._provider.mode

    def channel_scope(self, channel_id: str | None) -> frozenset[str] | None:
        """The channel's namespaces; None = no channel scope (unlisted channel, or a DM)."""
        if not channel_id or is_dm(channel_id):
            return None
        return self._channel_scopes.get(channel_id)

    async def channel_limit(
        self, channel_id: str | None, thread_ts: str | None = None
    ) -> frozenset[str] | None:
        """The channel's namespaces for a person's question, failing closed (issue 11): a
        listed channel → its list; a DM → None (the user's own scope); an unlisted channel →
        refused under AIOPS_CHANNEL_DEFAULT=deny, and under `own` refused too when it is a
        Slack Connect channel (outside guests read along)."""
        if not channel_id or is_dm(channel_id):
            return None
        listed = self._channel_scopes.get(channel_id)
        if listed is not None:
            return listed
        if channel_id == self._incident_channel and thread_ts and self._alert_thread is not None:
            alert_ns = await self._alert_thread(channel_id, thread_ts)
            if alert_ns is not None:  # an alert's thread keeps the alert's namespaces
                return alert_ns
        if self._channel_default == "deny":
            raise AuthFailure("out_of_scope", messages.CHANNEL_NOT_LISTED)
        # shared_channels=None: built without Slack (unit tests) — no Slack Connect to ask about
        if self._shared is not None and await self._shared.is_external(channel_id):
            raise AuthFailure("out_of_scope", messages.CHANNEL_SHARED)
        return None

    # --- scope -----------------------------------------------------------------------------
    async def scope_for(self, job: Job) -> EffectiveScope:
        """The effective scope of this job, or AuthFailure (already audited and counted)."""
        try:
            if job.kind == "alert":
                return self._alert_scope(job)
            if job.kind == "api":
                return self._api_scope(job)
            if job.kind == "scheduled":
                return self._scheduled_scope(job)
            channel_ns = await self.channel_limit(job.channel_id, job.thread_ts)
            identity = await self._identify(job.user_id)
            scope = effective_scope(identity, channel_id=job.channel_id, channel_namespaces=channel_ns)
            _check_usable(scope, channel_ns)
            return scope
        except AuthFailure as failure:
            await self._record(job.user_id, failure, session_id=job.session_id, ip=job.ip_address)
            raise
        except Exception as exc:  # fail closed on anything unexpected
            if is_store_outage(exc):  # not an authentication failure: the job waits for the store
                raise StoreUnavailable(f"identity store unreachable ({type(exc).__name__})") from None
            log.error("identity: unexpected %s for user %s", type(exc).__name__, job.user_id)
            closed = AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE)
            await self._record(job.user_id, closed, session_id=job.session_id, ip=job.ip_address)
            raise closed from None

    def _scheduled_scope(self, job: Job) -> EffectiveScope:
        """A scheduled digest: a service identity bounded by the channel's listed scope — never a
        person's token, so it survives its creator leaving; nothing at all in an unlisted channel."""
        channel_ns = self.channel_scope(job.channel_id)
        if not channel_ns:
            raise AuthFailure("out_of_scope", messages.SCHEDULED_NEEDS_SCOPE)
        service = Identity(slack_user_id=job.user_id, subject=job.user_id, username="scheduler",
                           roles=frozenset({"analyst"}), namespaces=channel_ns)
        return effective_scope(service, channel_id=job.channel_id, channel_namespaces=channel_ns)

    def _api_scope(self, job: Job) -> EffectiveScope:
        """A REST API question: claims the API process verified (RS256, iss, aud, exp) against the
        realm's JWKS before enqueueing; narrowed to the namespace the asker named, if any."""
        try:
            identity = identity_from_claims(job.claims or {}, slack_user_id=job.user_id)
        except ClaimsInvalid as exc:
            raise AuthFailure("token_invalid", messages.TOKEN_INVALID) from exc
        scope = effective_scope(
            identity, channel_id=None, channel_namespaces=None, alert_namespace=job.namespace
        )
        if not scope.may_query:
            text = messages.API_NAMESPACE_OUT_OF_SCOPE.format(ns=job.namespace or "any")
            raise AuthFailure("out_of_scope", text)
        return scope

    def _alert_scope(self, job: Job) -> EffectiveScope:
        channel_id = job.channel_id or self._incident_channel
        system = Identity(
            slack_user_id=ALERT_USER,
            subject=ALERT_USER,
            username=ALERT_USER,
            roles=self._alert_roles,
            namespaces=alert_namespaces(job.alert),
        )
        channel_ns = self.channel_scope(channel_id)
        return effective_scope(system, channel_id=channel_id, channel_namespaces=channel_ns)

    async def _identify(self, slack_user_id: str) -> Identity:
        try:
            return await self._provider.identify(slack_user_id)
        except AuthFailure as failure:
            if failure.reason not in REASONS:  # a provider bug must not invent audit codes
                raise AuthFailure("token_invalid", failure.user_message) from None
            raise

    async def _record(
        self, user_id: str, failure: AuthFailure, *, session_id: str | None, ip: str | None
    ) -> None:
        self._metrics.auth_failures.labels(reason=failure.reason).inc()
        event = AuditEvent(
            event_type="auth_failure",
            user_id=user_id,
            session_id=session_id,
            ip_address=ip,
            failure_reason=failure.reason,
        )
        try:
            await self._audit.write(event)
        except Exception as exc:  # the refusal stands even if the audit store is down
            log.error("identity: could not write auth_failure audit event (%s)", type(exc).__name__)

    # --- /aiops subcommands ----------------------------------------------------------------
    async def command(self, job: Job) -> str:
        """Text for `/aiops whoami|login|logout|help` (shown privately to the user)."""
        name = (job.command or "help").strip().lower()
        if name == "whoami":
            return await self._whoami(job)
        if name == "login":
            return await self._login(job)
        if name == "logout":
            return await self._logout(job)
        if name == "links":
            return await self._links(job)
        return messages.HELP

    async def _links(self, job: Job) -> str:
        provider = self._provider
        if not isinstance(provider, LinkingProvider):
            return messages.LINKS_NOT_DEVICE.format(source=messages.MODE_SOURCES[self.mode])
        try:
            identity = await self._identify(job.user_id)
        except AuthFailure as failure:
            await self._record(job.user_id, failure, session_id=None, ip=job.ip_address)
            return failure.user_message
        is_admin = permissions_for(identity.roles).all_namespaces
        return await links_command(
            job.text, admin=identity, is_admin=is_admin, provider=provider, audit=self._audit
        )

    async def _whoami(self, job: Job) -> str:
        try:
            identity = await self._identify(job.user_id)
        except AuthFailure as failure:
            await self._record(job.user_id, failure, session_id=job.session_id, ip=job.ip_address)
            return failure.user_message
        except Exception as exc:
            log.error("identity: unexpected %s in whoami for %s", type(exc).__name__, job.user_id)
            return messages.IDP_UNAVAILABLE
        channel_ns = self.channel_scope(job.channel_id)
        scope = effective_scope(identity, channel_id=job.channel_id, channel_namespaces=channel_ns)
        return messages.whoami(scope, mode=self.mode, channel_ns=channel_ns, is_dm=is_dm(job.channel_id))

    async def _login(self, job: Job) -> str:
        provider = self._provider
        if not isinstance(provider, LinkingProvider) or self._logins is None:
            return messages.LOGIN_NOT_NEEDED.format(source=messages.MODE_SOURCES[self.mode])
        user = job.user_id
        try:
            login = await provider.start_login(user)
        except AuthFailure as failure:
            await self._record(user, failure, session_id=None, ip=job.ip_address)
            return failure.user_message
        except Exception as exc:
            log.error("identity: device authorization failed (%s)", type(exc).__name__)
            return messages.IDP_UNAVAILABLE
        had = await provider.linked_subject(user)
        await self._logins.start(user, login, had)  # polled in the background, by any worker
        return messages.LOGIN_START.format(
            url=login.verification_uri_complete or login.verification_uri,
            code=login.user_code,
            minutes=max(1, login.expires_in // 60),
        )

    async def _login_ended(self, user: str, had: str | None, outcome: Identity | Exception) -> None:
        """How a device login ended, reported once (app.identity.login_runs decides who reports)."""
        if isinstance(outcome, LinkRefused):
            await self._record(user, outcome, session_id=None, ip=None)
            await audit_identity(self._audit, user_id=user, action=f"link_refused:{outcome.detail}")
            await self._tell(user, outcome.user_message)
        elif isinstance(outcome, AuthFailure):
            await self._record(user, outcome, session_id=None, ip=None)
            await self._tell(user, outcome.user_message)
        elif isinstance(outcome, Exception):
            log.error("identity: login polling failed (%s)", type(outcome).__name__)
            closed = AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE)
            await self._record(user, closed, session_id=None, ip=None)
            await self._tell(user, closed.user_message)
        else:
            action = "link" if had is None else "relink"
            await audit_identity(
                self._audit, user_id=user, action=action, subject=outcome.subject, previous=had
            )
            await self._tell(user, messages.login_done(outcome))

    async def _tell(self, user: str, text: str) -> None:
        if self._notify is None:
            return
        try:
            await self._notify(user, text)
        except Exception as exc:
            log.warning("identity: could not notify %s (%s)", user, type(exc).__name__)

    async def _logout(self, job: Job) -> str:
        provider = self._provider
        if not isinstance(provider, LinkingProvider):
            return messages.LOGOUT_NOT_POSSIBLE.format(source=messages.MODE_SOURCES[self.mode])
        if self._logins is not None:
            try:
                await self._logins.stop(job.user_id)  # a login still being polled ends too
            except RedisError as exc:  # no poller can renew its lease without Redis either
                log.warning("identity: pending login not dropped (%s)", type(exc).__name__)
        try:
            subject = await provider.linked_subject(job.user_id)
            removed = await provider.logout(job.user_id)
        except Exception as exc:
            log.error("identity: logout failed (%s)", type(exc).__name__)
            return messages.IDP_UNAVAILABLE
        if removed:
            await audit_identity(self._audit, user_id=job.user_id, action="unlink", subject=subject)
        return messages.LOGOUT_DONE if removed else messages.LOGOUT_NOTHING

    async def wait_logins(self) -> None:
        """Wait for background logins to end (tests, graceful shutdown)."""
        if self._logins is not None:
            await self._logins.wait()

    async def resume_logins(self, stop: asyncio.Event) -> None:
        """Until `stop`: finish device logins whose worker died (run once per worker process)."""
        if self._logins is None:
            await stop.wait()
            return
        await self._logins.resume(stop)

    async def aclose(self) -> None:
        if self._logins is not None:
            await self._logins.aclose()  # each login in flight is left to another worker
        await self._provider.aclose()


def _check_usable(scope: EffectiveScope, channel_ns: frozenset[str] | None) -> None:
    """A user scope that can read nothing is refused up front, with the reason."""
    ident = scope.identity
    if not scope.permissions.may_query:
        raise AuthFailure("no_role", messages.NO_ROLE.format(username=ident.username))
    if scope.namespaces is not None and not scope.namespaces:
        if channel_ns is not None and (scope.permissions.all_namespaces or ident.namespaces):
            raise AuthFailure("out_of_scope", messages.out_of_scope_channel(ident, channel_ns))
        raise AuthFailure("out_of_scope", messages.OUT_OF_SCOPE_NO_NAMESPACES.format(username=ident.username))
