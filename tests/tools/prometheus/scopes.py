"""Scopes for tests, built the only legal way: through `effective_scope()`."""

from __future__ import annotations

from kernel.scope import EffectiveScope, Identity, effective_scope


def make_scope(
    *roles: str, namespaces: set[str] | None = None, channel: set[str] | None = None
) -> EffectiveScope:
    identity = Identity(
        slack_user_id="U1", subject="kc-sub-1", username="alice",
        roles=frozenset(roles), namespaces=frozenset(namespaces or ()),
    )
    return effective_scope(
        identity, channel_id="C1", channel_namespaces=None if channel is None else frozenset(channel)
    )
