"""Slack user → verified Keycloak claims → effective scope of a job."""

from kernel.scope import EffectiveScope, Identity, effective_scope

__all__ = ["EffectiveScope", "Identity", "effective_scope"]
