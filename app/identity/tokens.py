"""Access-token verification: RS256 only, keys from Keycloak's JWKS, fetched asynchronously.

The JWKS is cached for `ttl_s`; a token signed with an unknown `kid` (key rotation) triggers
one re-fetch, but at most once per `min_refetch_s`, so a flood of forged `kid`s cannot turn
into a flood of requests to Keycloak. `iss`, `aud`, `exp`, `iat`, `sub` are required; the
token must be a Keycloak access token (`typ: Bearer`, not an ID or refresh token).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import jwt

from app.identity.keycloak import IdpUnavailable

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
MAX_TOKEN_CHARS = 16_384


class TokenRejected(Exception):
    """The token is not acceptable. `reason` is `token_expired` or `token_invalid`."""

    def __init__(self, reason: Literal["token_expired", "token_invalid"], detail: str) -> None:
        self.reason = reason
        self.detail = detail  # for logs: the check that failed, never the token
        super().__init__(f"{reason}: {detail}")


class JwksCache:
    def __init__(
        self,
        *,
        fetch: Callable[[], Awaitable[dict[str, Any]]],
        ttl_s: float = 300.0,
        min_refetch_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_s
        self._min_refetch = min_refetch_s
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        """Number of JWKS requests made (observable for tests and debugging)."""

    async def key(self, kid: str) -> jwt.PyJWK:
        async with self._lock:
            now = self._clock()
            if self._fetched_at is None or now - self._fetched_at >= self._ttl:
                await self._refresh(now)
            elif kid not in self._keys and self._may_refetch(now):
                await self._refresh(now)
        key = self._keys.get(kid)
        if key is None:
            raise TokenRejected("token_invalid", "unknown kid")
        return key

    def _may_refetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._min_refetch

    async def _refresh(self, now: float) -> None:
        if not self._may_refetch(now):
            # The last attempt failed moments ago: don't hammer Keycloak; fail closed.
            raise IdpUnavailable("JWKS fetch failed moments ago")
        self._attempted_at = now
        self.fetches += 1
        document = await self._fetch()  # IdpUnavailable propagates: no keys, no answers
        self._keys = _parse_jwks(document)
        self._fetched_at = now


def _parse_jwks(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """Signing RSA keys usable with RS256, by kid. Encryption keys and others are skipped."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []):
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            keys[kid] = jwt.PyJWK({**entry, "alg": ALGORITHM})
        except jwt.PyJWTError as exc:
            log.warning("jwks: skipping key %s (%s)", kid, type(exc).__name__)
    return keys


class TokenVerifier:
    def __init__(self, *, jwks: JwksCache, issuer: str, audience: str, leeway_s: float = 30.0) -> None:
        self._jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self._leeway = leeway_s

    async def verify(self, token: str) -> dict[str, Any]:
        """The verified claims, or TokenRejected; IdpUnavailable if the keys can't be fetched."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected("token_invalid", "empty or oversized token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("token_invalid", "malformed header") from None
        # Decide the algorithm ourselves before touching a key: no alg=none, no HS256-with-public-key.
        if header.get("alg") != ALGORITHM:
            raise TokenRejected("token_invalid", "algorithm not RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("token_invalid", "no kid")
        key = await self._jwks.key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token_expired", "expired") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected("token_invalid", type(exc).__name__) from None
        if claims.get("typ") != "Bearer":
            raise TokenRejected("token_invalid", "not an access token")
        return claims
