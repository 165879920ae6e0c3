"""Keycloak claims → `Identity`, with the same strict typing in every mode.

The seed's claims are `sub`, `preferred_username`, `aiops_namespaces` (list of strings) and
`aiops_roles` (list of strings). Anything else — a string where a list belongs, a namespace
that is not a Kubernetes name — is refused rather than guessed at: the namespaces end up in
PromQL matchers and API paths, so a value like `a|b` or `.*` must never get that far.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kernel.scope import Identity

# RFC 1123 label, as Kubernetes requires for namespace names.
_NAMESPACE_RE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_ROLE_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class ClaimsInvalid(ValueError):
    """The claims do not have the shape the seed defines. Message names the claim, never a token."""


def is_namespace(value: object) -> bool:
    return isinstance(value, str) and _NAMESPACE_RE.fullmatch(value) is not None


def string_list(claims: Mapping[str, Any], name: str, *, namespaces: bool = False) -> frozenset[str]:
    """A list-of-strings claim; absent = empty. Any other type or a bad value → ClaimsInvalid."""
    value = claims.get(name)
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise ClaimsInvalid(f"claim {name} must be a list of strings, got {type(value).__name__}")
    for item in value:
        if not isinstance(item, str):
            raise ClaimsInvalid(f"claim {name} must be a list of strings")
        if namespaces and not is_namespace(item):
            raise ClaimsInvalid(f"claim {name} holds a value that is not a Kubernetes namespace name")
        if not namespaces and _ROLE_RE.fullmatch(item) is None:
            raise ClaimsInvalid(f"claim {name} holds a malformed role name")
    return frozenset(value)


def identity_from_claims(
    claims: Mapping[str, Any], *, slack_user_id: str, expires_at: datetime | None = None
) -> Identity:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise ClaimsInvalid("claim sub must be a non-empty string")
    username = claims.get("preferred_username", sub)
    if not isinstance(username, str) or not username:
        raise ClaimsInvalid("claim preferred_username must be a non-empty string")
    if expires_at is None and isinstance(claims.get("exp"), int | float):
        expires_at = datetime.fromtimestamp(float(claims["exp"]), tz=UTC)
    return Identity(
        slack_user_id=slack_user_id,
        subject=sub,
        username=username,
        roles=string_list(claims, "aiops_roles"),
        namespaces=string_list(claims, "aiops_namespaces", namespaces=True),
        token_expires_at=expires_at,
    )
