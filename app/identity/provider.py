"""What every identity mode provides: Slack user id → verified `Identity`.

Providers raise `AuthFailure(reason, user_message)` with one of `REASONS`; the service
audits and counts it. Anything else a provider raises is treated as `idp_unavailable`
(fail closed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from kernel.scope import Identity

Reason = Literal[
    "unknown_user",
    "unlinked",
    "token_expired",
    "token_invalid",
    "email_unverified",
    "idp_unavailable",
    "no_role",
    "out_of_scope",
    "link_refused",
]
REASONS: frozenset[str] = frozenset(Reason.__args__)  # type: ignore[attr-defined]


class IdentityProvider(Protocol):
    mode: str
    """`device`, `directory` or `static` (shown by whoami/help)."""

    async def identify(self, slack_user_id: str) -> Identity:
        """The verified identity of this Slack user, or AuthFailure."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class DeviceLogin:
    """A started device authorization: what the user must open, and what the bot polls with."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int
    device_code: str = field(repr=False)
    started_at: float = 0.0
    """Provider clock when the code was issued: the code's lifetime counts from here."""


KeepPolling = Callable[[float], Awaitable[bool]]
"""Asked before each token poll with the current interval: False → stop (app.identity.pending)."""


class LoginAbandoned(Exception):
    """The poller let a login go (superseded, logged out, lease lost): nothing to report."""


@runtime_checkable
class LinkingProvider(IdentityProvider, Protocol):
    """A mode where the user links Slack to Keycloak themselves (`device`)."""

    async def start_login(self, slack_user_id: str) -> DeviceLogin: ...

    async def complete_login(
        self, slack_user_id: str, login: DeviceLogin, keep: KeepPolling | None = None
    ) -> Identity:
        """Poll until approved (→ link stored) or refused/expired (→ AuthFailure); `keep`
        False before a poll → LoginAbandoned."""
        ...

    async def logout(self, slack_user_id: str) -> bool:
        """Remove the link; False if there was none."""
        ...

    async def linked_subject(self, slack_user_id: str) -> str | None:
        """The Keycloak subject this Slack user is linked to, if any."""
        ...

    async def all_links(self) -> list[tuple[str, str]]:
        """Every (slack user id, subject) link, for admins."""
        ...
