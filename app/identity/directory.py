"""`directory` mode: Slack's verified email → the one Keycloak account with that email.

users.info (needs `users:read.email`) must say `is_email_confirmed: true`; the Keycloak Admin
API (`GET /admin/realms/{realm}/users?email=…&exact=true`, the bot's client-credentials token)
must return exactly one enabled account with a verified email. Its claims are built as the
Keycloak "User Attribute" mapper (multivalued, aggregated) builds them: the user's attributes
`aiops_namespaces`/`aiops_roles` plus those of the user's groups. The result is cached briefly
so a busy thread does not hit Slack and Keycloak on every message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.identity import messages
from app.identity.claims import ClaimsInvalid, identity_from_claims
from app.identity.keycloak import IdpUnavailable, KeycloakClient, OidcError
from kernel.errors import AuthFailure
from kernel.scope import Identity

log = logging.getLogger(__name__)

CLAIMS = ("aiops_namespaces", "aiops_roles")


def _aggregate(user: dict[str, Any], groups: list[Any], name: str) -> Any:
    """User attribute values first, then each group's; a non-list anywhere is kept as-is
    so that the claim check refuses it (fail closed) instead of it being silently dropped."""
    own = (user.get("attributes") or {}).get(name)
    if own is not None and not isinstance(own, list):
        return own
    values: list[Any] = list(own or [])
    for group in groups:
        extra = ((group or {}).get("attributes") or {}).get(name) if isinstance(group, dict) else None
        if extra is None:
            continue
        if not isinstance(extra, list):
            return extra
        values += [v for v in extra if v not in values]
    return values


class DirectoryProvider:
    mode = "directory"

    def __init__(
        self,
        *,
        slack: AsyncWebClient,
        keycloak: KeycloakClient,
        cache_ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slack = slack
        self._kc = keycloak
        self._ttl = cache_ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[Identity, float]] = {}

    async def identify(self, slack_user_id: str) -> Identity:
        hit = self._cache.get(slack_user_id)
        if hit is not None and hit[1] > self._clock():
            return hit[0]
        email = await self._verified_email(slack_user_id)
        try:
            identity = await self._lookup(slack_user_id, email)
        except (IdpUnavailable, OidcError) as exc:
            log.error("identity: keycloak directory lookup failed (%s)", type(exc).__name__)
            raise AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE) from None
        self._cache[slack_user_id] = (identity, self._clock() + self._ttl)
        return identity

    async def _verified_email(self, slack_user_id: str) -> str:
        try:
            resp = await self._slack.users_info(user=slack_user_id)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error in ("user_not_found", "user_not_visible"):
                raise AuthFailure("unknown_user", messages.UNKNOWN_USER_DIRECTORY) from None
            log.error("identity: slack users.info failed (%s)", error)
            raise AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE) from None
        user = resp.get("user") or {}
        if user.get("deleted") or user.get("is_bot"):
            raise AuthFailure("unknown_user", messages.UNKNOWN_USER_DIRECTORY)
        email = (user.get("profile") or {}).get("email")
        if user.get("is_email_confirmed") is not True or not isinstance(email, str) or "@" not in email:
            raise AuthFailure("email_unverified", messages.EMAIL_UNVERIFIED)
        return email

    async def _lookup(self, slack_user_id: str, email: str) -> Identity:
        found = await self._kc.admin_get(
            "users", {"email": email, "exact": "true", "briefRepresentation": "false"}
        )
        # Belt and braces: keep only exact (case-insensitive, as Keycloak stores them) matches.
        matches = [
            u for u in (found if isinstance(found, list) else [])
            if isinstance(u, dict) and str(u.get("email", "")).lower() == email.lower()
        ]
        if len(matches) != 1:
            raise AuthFailure("unknown_user", messages.UNKNOWN_USER_DIRECTORY)
        user = matches[0]
        if user.get("enabled") is not True:
            raise AuthFailure("unknown_user", messages.UNKNOWN_USER_DISABLED)
        if user.get("emailVerified") is not True:
            raise AuthFailure("email_unverified", messages.EMAIL_UNVERIFIED)
        user_id = user.get("id")
        if not isinstance(user_id, str) or not user_id:
            raise AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE)
        groups = await self._kc.admin_get(
            f"users/{quote(user_id, safe='')}/groups", {"briefRepresentation": "false"}
        )
        groups = groups if isinstance(groups, list) else []
        claims = {
            "sub": user_id,
            "preferred_username": user.get("username"),
            **{name: _aggregate(user, groups, name) for name in CLAIMS},
        }
        try:
            return identity_from_claims(claims, slack_user_id=slack_user_id)
        except ClaimsInvalid as exc:
            log.warning("identity: directory attributes for %s refused (%s)", slack_user_id, exc)
            raise AuthFailure("token_invalid", messages.DIRECTORY_CLAIMS_INVALID) from None

    async def aclose(self) -> None:
        await self._kc.aclose()
