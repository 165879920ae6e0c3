"""Bound device login: the Keycloak identity that approves a device code must be the Slack
user who asked for it (issue 11 item 4) — otherwise anyone who gets an admin to approve "their"
code would be linked as that admin.

`AIOPS_LINK_BINDING=email` (default): the token's `email` must be verified
(`email_verified: true`) and equal — case-insensitively — the Slack profile's email
(`users.info`, which Slack only shows for a confirmed address). `attribute`: the token's
`slack_user_id` claim (a Keycloak user attribute exposed by a protocol mapper) must be the
Slack user id. And a Keycloak subject is linked to at most `max_slack_users` Slack users
(default 1; more only for Enterprise Grid, where one person has one user id per workspace).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.identity import messages
from kernel.errors import AuthFailure

log = logging.getLogger(__name__)

BindingMode = Literal["email", "attribute"]
SlackEmail = Callable[[str], Awaitable[str | None]]
"""slack user id → the confirmed email of their Slack profile (None when there is none)."""


class LinkRefused(AuthFailure):
    """The approving identity is not this Slack user (or the subject is taken); `detail` says
    which check failed — it goes into the `identity` audit row, never to the user."""

    def __init__(self, detail: str) -> None:
        super().__init__("link_refused", messages.LINK_REFUSED)
        self.detail = detail


def slack_email_lookup(slack: AsyncWebClient) -> SlackEmail:
    async def email(slack_user_id: str) -> str | None:
        try:
            resp = await slack.users_info(user=slack_user_id)
        except SlackApiError as exc:
            log.warning("users.info failed for %s (%s)", slack_user_id, exc.response.get("error"))
            return None
        user: Any = resp.get("user") or {}
        if user.get("deleted") or user.get("is_bot") or not user.get("is_email_confirmed", False):
            return None
        value = (user.get("profile") or {}).get("email")
        return str(value) if value else None

    return email


class LinkBinding:
    def __init__(
        self, *, mode: BindingMode = "email", slack_email: SlackEmail | None = None, max_slack_users: int = 1
    ) -> None:
        if mode == "email" and slack_email is None:
            raise ValueError("email binding needs the Slack email lookup")
        if max_slack_users < 1:
            raise ValueError("max_slack_users must be at least 1")
        self.mode = mode
        self._slack_email = slack_email
        self.max_slack_users = max_slack_users

    async def check(self, slack_user_id: str, claims: Mapping[str, Any]) -> None:
        """Raises LinkRefused unless the verified claims belong to this Slack user."""
        if self.mode == "attribute":
            value = claims.get("slack_user_id")
            values = value if isinstance(value, list) else [value]
            if slack_user_id not in values:
                raise LinkRefused("attribute_mismatch")
            return
        if claims.get("email_verified") is not True:
            raise LinkRefused("keycloak_email_unverified")
        kc_email = claims.get("email")
        assert self._slack_email is not None  # checked in __init__
        slack_email = await self._slack_email(slack_user_id)
        if slack_email is None:
            raise LinkRefused("slack_email_unknown")
        if not isinstance(kc_email, str) or kc_email.strip().casefold() != slack_email.strip().casefold():
            raise LinkRefused("email_mismatch")
