"""Verified identity and the effective scope of one job.

`Identity` is what a verified Keycloak token says about a Slack user. `EffectiveScope`
is what one job may see: the user's namespaces ∩ the channel's scope (∩ the alert's
namespace for alert triage). It is computed once per job, by `effective_scope()` only,
and handed to the tool router; nothing downstream re-derives it.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from datetime import datetime

from kernel.roles import Permissions, permissions_for

_FACTORY_KEY = object()


@dataclass(frozen=True)
class Identity:
    slack_user_id: str
    subject: str
    username: str
    roles: frozenset[str]
    namespaces: frozenset[str]
    token_expires_at: datetime | None = None


@dataclass(frozen=True)
class EffectiveScope:
    identity: Identity
    channel_id: str | None
    namespaces: frozenset[str] | None
    """Namespaces this job may read; None means every namespace (admin, unscoped)."""
    cluster_wide: bool
    """May read non-namespaced data (nodes, node-level metrics): admin outside a scoped channel."""
    permissions: Permissions
    # An InitVar without default: `dataclasses.replace(scope, namespaces=None)` cannot widen a
    # scope (replace() refuses to run without it), and direct construction needs the private key.
    _key: InitVar[object]

    def __post_init__(self, _key: object) -> None:
        if _key is not _FACTORY_KEY:
            raise TypeError("EffectiveScope is built only by kernel.scope.effective_scope()")

    @property
    def may_query(self) -> bool:
        return self.permissions.may_query and (self.namespaces is None or bool(self.namespaces))

    @property
    def may_recommend(self) -> bool:
        return self.permissions.may_recommend

    @property
    def may_run_jobs(self) -> bool:
        return self.permissions.may_run_jobs

    @property
    def user_id(self) -> str:
        """The id written to audit rows: the Keycloak subject."""
        return self.identity.subject

    def allows(self, namespace: str | None) -> bool:
        """May this job read `namespace`? None = non-namespaced data."""
        if not self.permissions.may_query:
            return False
        if namespace is None or namespace == "":
            return self.cluster_wide
        return self.namespaces is None or namespace in self.namespaces

    def describe(self) -> str:
        if not self.permissions.may_query:
            return "nothing (no known role)"
        if self.namespaces is None:
            return "all namespaces" + ("" if self.cluster_wide else " (namespaced data only)")
        return ", ".join(sorted(self.namespaces)) or "no namespace"


def effective_scope(
    identity: Identity,
    *,
    channel_id: str | None,
    channel_namespaces: frozenset[str] | None,
    alert_namespace: str | None = None,
) -> EffectiveScope:
    """user ∩ channel (∩ alert namespace). `channel_namespaces` None = channel has no scope."""
    perms = permissions_for(identity.roles)
    ns: frozenset[str] | None = None if perms.all_namespaces else frozenset(identity.namespaces)
    if channel_namespaces is not None:
        ns = frozenset(channel_namespaces) if ns is None else ns & channel_namespaces
    if alert_namespace is not None:
        ns = frozenset({alert_namespace}) if ns is None else ns & {alert_namespace}
    if not perms.may_query:
        ns = frozenset()
    cluster_wide = perms.all_namespaces and ns is None
    return EffectiveScope(
        identity=identity,
        channel_id=channel_id,
        namespaces=ns,
        cluster_wide=cluster_wide,
        permissions=perms,
        _key=_FACTORY_KEY,
    )
