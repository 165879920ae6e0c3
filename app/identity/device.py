"""`device` mode: `/aiops login` runs Keycloak's OAuth 2.0 Device Authorization Grant.

start_login → POST …/auth/device → the user gets `verification_uri_complete` + `user_code`
privately. complete_login polls …/token (`urn:ietf:params:oauth:grant-type:device_code`)
every `interval` s: `authorization_pending` → keep going, `slow_down` → interval + 5 s,
`expired_token`/`access_denied` → stop. On success the access token is verified and the link
(Slack user → `sub`, encrypted refresh token) is stored.

identify() uses the cached access token while it is valid (re-verified on every use, so a
withdrawn signing key takes effect), otherwise refreshes it with the stored refresh token and
verifies the new one; its `sub` must be the linked subject. A refresh Keycloak rejects ends the
link: the user is told to log in again. Clock and sleep are injectable so tests drive polling.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from app.identity import messages
from app.identity.binding import LinkBinding, LinkRefused
from app.identity.claims import ClaimsInvalid, identity_from_claims
from app.identity.keycloak import DEVICE_GRANT, IdpUnavailable, KeycloakClient, OidcError
from app.identity.links import Link, LinkStore, LinkUnreadable
from app.identity.provider import DeviceLogin, KeepPolling, LoginAbandoned
from app.identity.tokens import TokenRejected, TokenVerifier
from kernel.errors import AuthFailure
from kernel.scope import Identity

log = logging.getLogger(__name__)

SLOW_DOWN_STEP_S = 5
MAX_TRANSIENT_ERRORS = 5


class DeviceFlowProvider:
    mode = "device"

    def __init__(
        self,
        *,
        keycloak: KeycloakClient,
        verifier: TokenVerifier,
        links: LinkStore,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        refresh_margin_s: float = 30.0,
        binding: LinkBinding | None = None,
    ) -> None:
        self._kc = keycloak
        self._verifier = verifier
        self._links = links
        self._clock = clock
        self._sleep = sleep
        self._margin = refresh_margin_s
        self._binding = binding
        """None only in tests of the polling mechanics; the factory always passes one."""
        self._access: dict[str, tuple[str, float]] = {}  # slack user → (access token, exp)
        self._locks: dict[str, asyncio.Lock] = {}

    # --- identify --------------------------------------------------------------------------
    async def identify(self, slack_user_id: str) -> Identity:
        # The link is read on every job (one primary-key lookup): a logout or a new login in
        # any worker takes effect at once, not when this worker's cached access token expires.
        subject = (await _link(self._links, slack_user_id)).subject
        identity = await self._from_cache(slack_user_id, subject)
        if identity is not None:
            return identity
        # One refresh at a time per user: in this process (asyncio lock), and across workers
        # (the store's lock) — a job that waited reuses the token the other one obtained.
        async with self._locks.setdefault(slack_user_id, asyncio.Lock()):
            identity = await self._from_cache(slack_user_id, subject)
            if identity is not None:
                return identity
            refused: AuthFailure
            async with self._links.locked(slack_user_id) as links:
                try:
                    return await self._refresh(links, await _link(links, slack_user_id))
                except AuthFailure as exc:
                    refused = exc  # leave the block normally so its writes (the link's removal) commit
            raise refused

    async def _from_cache(self, slack_user_id: str, subject: str) -> Identity | None:
        """The identity from the cached access token, re-verified; None → refresh."""
        cached = self._access.get(slack_user_id)
        if cached is None or cached[1] - self._margin <= self._clock():
            return None
        try:
            identity = await self._identity(slack_user_id, cached[0], expected_sub=subject)
        except AuthFailure:
            self._access.pop(slack_user_id, None)  # refresh; a real problem shows up there again
            return None
        return identity

    async def _refresh(self, links: LinkStore, link: Link) -> Identity:
        try:
            body = await self._kc.token(
                {"grant_type": "refresh_token", "refresh_token": link.refresh_token.get_secret_value()}
            )
        except OidcError as exc:
            if exc.error == "invalid_grant":  # expired, revoked, user disabled, session ended
                await links.delete(link.slack_user_id)
                raise AuthFailure("token_expired", messages.TOKEN_EXPIRED) from None
            log.error("identity: keycloak refused the refresh grant (%s)", exc.error)
            raise AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE) from None
        except IdpUnavailable:
            raise AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE) from None
        return await self._accept(links, link.slack_user_id, body, expected_sub=link.subject)

    async def _identity(self, slack_user_id: str, token: str, *, expected_sub: str | None) -> Identity:
        try:
            claims = await self._verifier.verify(token)
            identity = identity_from_claims(claims, slack_user_id=slack_user_id)
        except TokenRejected as exc:
            log.warning("identity: token for %s rejected (%s)", slack_user_id, exc.detail)
            text = messages.TOKEN_EXPIRED if exc.reason == "token_expired" else messages.TOKEN_INVALID
            raise AuthFailure(exc.reason, text) from None
        except ClaimsInvalid as exc:
            log.warning("identity: claims for %s refused (%s)", slack_user_id, exc)
            raise AuthFailure("token_invalid", messages.TOKEN_INVALID) from None
        except IdpUnavailable:
            raise AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE) from None
        if expected_sub is not None and identity.subject != expected_sub:
            log.warning("identity: refreshed token for %s names another subject", slack_user_id)
            raise AuthFailure("token_invalid", messages.TOKEN_INVALID)
        return identity

    async def _accept(
        self, links: LinkStore, slack_user_id: str, body: dict[str, Any], *, expected_sub: str | None
    ) -> Identity:
        """Verify a token response; store the (rotated) refresh token and cache the access token."""
        identity = await self._identity(slack_user_id, str(body["access_token"]), expected_sub=expected_sub)
        refresh = body.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            lifetime = body.get("refresh_expires_in")
            expires = (
                datetime.now(UTC) + timedelta(seconds=float(lifetime))
                if isinstance(lifetime, int | float) and lifetime > 0
                else None
            )
            await links.put(Link(slack_user_id, identity.subject, SecretStr(refresh), expires))
        if identity.token_expires_at is not None:
            self._access[slack_user_id] = (str(body["access_token"]), identity.token_expires_at.timestamp())
        return identity

    # --- login / logout --------------------------------------------------------------------
    async def start_login(self, slack_user_id: str) -> DeviceLogin:
        try:
            started = self._clock()
            body = await self._kc.device_authorization()
            return DeviceLogin(
                user_code=str(body["user_code"]),
                verification_uri=str(body["verification_uri"]),
                verification_uri_complete=(
                    str(body["verification_uri_complete"]) if body.get("verification_uri_complete") else None
                ),
                expires_in=int(body.get("expires_in", 600)),
                interval=int(body.get("interval", 5)),
                device_code=str(body["device_code"]),
                started_at=started,
            )
        except (IdpUnavailable, OidcError, KeyError, TypeError, ValueError) as exc:
            log.error("identity: device authorization failed (%s)", type(exc).__name__)
            raise AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE) from None

    async def complete_login(
        self, slack_user_id: str, login: DeviceLogin, keep: KeepPolling | None = None
    ) -> Identity:
        interval = float(max(1, login.interval))
        deadline = (login.started_at or self._clock()) + login.expires_in
        transient = 0
        while True:
            await self._sleep(interval)
            if self._clock() > deadline:
                raise AuthFailure("token_expired", messages.LOGIN_EXPIRED)
            if keep is not None and not await keep(interval):
                raise LoginAbandoned  # replaced, logged out, or another worker polls it now
            try:
                body = await self._kc.token({"grant_type": DEVICE_GRANT, "device_code": login.device_code})
            except IdpUnavailable:
                transient += 1
                if transient >= MAX_TRANSIENT_ERRORS:
                    raise AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE) from None
                continue
            except OidcError as exc:
                if exc.error == "authorization_pending":
                    continue
                if exc.error == "slow_down":
                    interval += SLOW_DOWN_STEP_S
                    continue
                if exc.error == "expired_token":
                    raise AuthFailure("token_expired", messages.LOGIN_EXPIRED) from None
                if exc.error == "access_denied":
                    raise AuthFailure("unlinked", messages.LOGIN_DENIED) from None
                log.error("identity: device token poll refused (%s)", exc.error)
                why = "Keycloak refused the login code."
                raise AuthFailure("token_invalid", messages.LOGIN_FAILED.format(why=why)) from None
            await self._bind(slack_user_id, str(body.get("access_token", "")))
            return await self._accept(self._links, slack_user_id, body, expected_sub=None)

    async def _bind(self, slack_user_id: str, token: str) -> None:
        """The approving identity must be this Slack user, and its subject not taken."""
        if self._binding is None:
            return
        try:
            claims = await self._verifier.verify(token)
        except TokenRejected as exc:
            raise AuthFailure(exc.reason, messages.TOKEN_INVALID) from None
        except IdpUnavailable:
            raise AuthFailure("idp_unavailable", messages.IDP_UNAVAILABLE) from None
        await self._binding.check(slack_user_id, claims)
        others = [u for u in await self._links.users_of(str(claims.get("sub"))) if u != slack_user_id]
        if len(others) >= self._binding.max_slack_users:
            raise LinkRefused("subject_already_linked")

    async def linked_subject(self, slack_user_id: str) -> str | None:
        try:
            link = await self._links.get(slack_user_id)
        except LinkUnreadable:
            return "(unreadable)"
        return link.subject if link else None

    async def all_links(self) -> list[tuple[str, str]]:
        return await self._links.all()

    async def logout(self, slack_user_id: str) -> bool:
        self._access.pop(slack_user_id, None)
        try:
            link = await self._links.get(slack_user_id)
        except LinkUnreadable:
            link = None
        if link is not None:
            try:  # best effort: the link goes away even if Keycloak can't be told
                await self._kc.revoke_refresh_token(link.refresh_token.get_secret_value())
            except (IdpUnavailable, OidcError) as exc:
                log.warning("identity: could not revoke the refresh token at logout (%s)", type(exc).__name__)
        return await self._links.delete(slack_user_id)

    async def aclose(self) -> None:
        await self._kc.aclose()


async def _link(links: LinkStore, slack_user_id: str) -> Link:
    try:
        link = await links.get(slack_user_id)
    except LinkUnreadable:
        raise AuthFailure("token_invalid", messages.TOKEN_INVALID) from None
    if link is None:
        raise AuthFailure("unlinked", messages.UNLINKED)
    return link
