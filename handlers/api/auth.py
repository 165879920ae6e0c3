"""`Authorization: Bearer <access token>` → a verified `Principal`, or 401/503 problem.

The same `TokenVerifier` as Slack logins (RS256 only, realm JWKS, iss, aud, exp/iat required,
access tokens only) and the same claim rules (`identity_from_claims`): a forged, expired, wrong
audience or malformed-claims token is refused here exactly as there, counted and audited as an
`auth_failure` with the source address — never with anything the token claims about itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from app.identity.claims import ClaimsInvalid, identity_from_claims
from app.identity.keycloak import IdpUnavailable
from app.identity.tokens import TokenRejected, TokenVerifier
from handlers.api.problems import Problem, forbidden, unauthorized
from kernel.audit import AuditEvent, AuditSink
from kernel.metrics import Metrics
from kernel.roles import permissions_for

AUDIT_USER = "system:api"


@dataclass(frozen=True)
class Principal:
    sub: str
    username: str
    roles: frozenset[str]
    namespaces: frozenset[str]
    claims: dict[str, Any]

    @property
    def is_admin(self) -> bool:
        return permissions_for(self.roles).all_namespaces

    def may_see(self, namespace: str) -> bool:
        return self.is_admin or namespace in self.namespaces


class Authenticator:
    def __init__(self, *, verifier: TokenVerifier, audit: AuditSink, metrics: Metrics) -> None:
        self._verifier = verifier
        self._audit = audit
        self._metrics = metrics

    async def bearer(self, request: web.Request) -> str:
        """Where this surface finds the access token: the Authorization header (the UI overrides)."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("Send an access token as 'Authorization: Bearer <token>' (aiops login).")
        return token.strip()

    async def principal(self, request: web.Request) -> Principal:
        token = await self.bearer(request)
        try:
            claims = await self._verifier.verify(token)
            identity = identity_from_claims(claims, slack_user_id="api")
        except TokenRejected as exc:
            await self._refused(request, exc.reason)
            detail = (
                "The access token has expired: log in again."
                if exc.reason == "token_expired"
                else ("The access token is not valid for this service.")
            )
            raise unauthorized(detail) from None
        except ClaimsInvalid:
            await self._refused(request, "token_invalid")
            raise unauthorized("The access token's aiops claims are malformed.") from None
        except IdpUnavailable:
            raise Problem(
                503,
                "Service Unavailable",
                "Keycloak's signing keys cannot be fetched right now.",
                headers={"Retry-After": "10"},
            ) from None
        principal = Principal(
            identity.subject, identity.username, identity.roles, identity.namespaces, claims
        )
        if not permissions_for(principal.roles).may_query:
            await self._refused(request, "no_role")
            raise forbidden("Your account has no aiops role (viewer, analyst or admin).")
        return principal

    async def _refused(self, request: web.Request, reason: str) -> None:
        self._metrics.auth_failures.labels(reason=reason).inc()
        await self._audit.write(
            AuditEvent(
                event_type="auth_failure",
                user_id=AUDIT_USER,
                ip_address=request.remote,
                failure_reason=reason,
                session_id=None,
            )
        )
