"""Every user-facing string of the identity area (Slack mrkdwn), in one place.

Refusals say what happened and how to fix it; they never contain a token, a secret, an
exception text or a stack trace.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app import messages as app_messages
from kernel.scope import EffectiveScope, Identity

# --- refusals (AuthFailure.user_message) ---------------------------------------------------
# ruff: noqa: S105  (TOKEN_* are messages about tokens, not tokens)
UNKNOWN_USER_STATIC = (
    "I don't know your Slack account yet. Ask an aiops admin to add your Slack user id "
    "(`{slack_user_id}`) to the identity file."
)
UNKNOWN_USER_DIRECTORY = (
    "I couldn't find exactly one Keycloak account with your Slack email address. "
    "Ask your Keycloak admin to create (or de-duplicate) an account with that email."
)
UNKNOWN_USER_DISABLED = "Your Keycloak account is disabled. Ask your Keycloak admin to enable it."
UNLINKED = (
    "Your Slack account isn't linked to a Keycloak identity yet. "
    "Run `/aiops login` to link it (it takes a minute), then ask again."
)
TOKEN_EXPIRED = "Your Keycloak session has expired. Run `/aiops login` again, then ask again."
TOKEN_INVALID = (
    "I couldn't verify your Keycloak identity, so I won't answer. Run `/aiops login` again; "
    "if this keeps happening, tell the aiops admins."
)
DIRECTORY_CLAIMS_INVALID = (
    "Your Keycloak account's aiops attributes (`aiops_namespaces`, `aiops_roles`) are malformed, "
    "so I won't guess what you may see. Ask your Keycloak admin to fix them."
)
EMAIL_UNVERIFIED = (
    "Your email address isn't verified (in Slack or in Keycloak), so I can't match you to a "
    "Keycloak account. Verify it, then ask again."
)
IDP_UNAVAILABLE = (
    "I can't reach Keycloak right now to check who you are, so I won't answer. "
    "Please try again in a few minutes."
)
NO_ROLE = (
    "Your Keycloak account (`{username}`) has no aiops role (viewer, analyst or admin), so you "
    "can't query anything. Ask your Keycloak admin to grant you a role."
)
OUT_OF_SCOPE_CHANNEL = (
    "This channel is limited to {channel_ns}, and none of those are among your namespaces "
    "({user_ns}). Ask in a channel that covers your namespaces, or in a DM with me."
)
SCHEDULED_NEEDS_SCOPE = "Scheduled digests run only in channels with a listed namespace scope."
API_NAMESPACE_OUT_OF_SCOPE = "You cannot see namespace {ns}: it is not among your namespaces."
CHANNEL_NOT_LISTED = (
    "I don't answer in this channel: it has no namespace scope configured, and everyone here "
    "would read what you may see. Ask me in a DM instead (your own namespaces), or ask an aiops "
    "admin to add this channel to the channel-scope file."
)
CHANNEL_SHARED = (
    "I don't answer in this channel: it is shared with another organisation (Slack Connect) and "
    "not explicitly configured for aiops. Ask me in a DM instead."
)
OUT_OF_SCOPE_NO_NAMESPACES = (
    "Your Keycloak account (`{username}`) has no namespaces (`aiops_namespaces` is empty), so "
    "there is nothing you may query. Ask your Keycloak admin to grant you namespaces."
)

# --- /aiops login | logout -------------------------------------------------------------------
LOGIN_START = (
    "To link your Slack account to Keycloak, open {url} and confirm the code *{code}* "
    "(valid for {minutes} min). I'll tell you here when it's done."
)
LOGIN_DONE = "You're logged in as *{username}* ({roles}). Namespaces: {namespaces}."
LOGIN_EXPIRED = "The login code expired before it was confirmed. Run `/aiops login` to get a new one."
LOGIN_DENIED = "The login was denied in Keycloak. Run `/aiops login` to try again."
LOGIN_FAILED = "The login didn't complete: {why} Run `/aiops login` to try again."
LINK_REFUSED = (
    "The login was approved by a Keycloak account that isn't yours (or that is already linked to "
    "another Slack user), so I did not link it. Open the link yourself and sign in with *your own* "
    "Keycloak account, then run `/aiops login` again. If this keeps happening, tell the aiops admins."
)
LINKS_ADMIN_ONLY = "Only aiops admins can list or revoke identity links."
LINKS_NOT_DEVICE = "There are no identity links: in this deployment your identity comes from {source}."
LINKS_NONE = "No Slack user is linked to a Keycloak identity."
LINKS_USAGE = "Usage: `/aiops links` to list, `/aiops links revoke <@user or U…>` to unlink someone."
LINK_REVOKED = "Unlinked {user}: they must run `/aiops login` again."
LINK_NOT_FOUND = "{user} has no link."
LOGIN_NOT_NEEDED = (
    "No login needed: in this deployment your identity comes from {source}. "
    "Try `/aiops whoami`."
)
LOGOUT_DONE = "Logged out: your Slack account is no longer linked to Keycloak. `/aiops login` links it again."
LOGOUT_NOTHING = "You weren't logged in. `/aiops login` links your Slack account to Keycloak."
LOGOUT_NOT_POSSIBLE = "There is nothing to log out of: in this deployment your identity comes from {source}."

MODE_SOURCES = {
    "directory": "your verified Slack email, matched to your Keycloak account",
    "static": "the static identity file (development mode)",
    "device": "your Keycloak login",
}

HELP = app_messages.HELP  # one help text, whether Bolt acks it or the identity service answers


def _fmt_set(values: frozenset[str] | None, *, empty: str = "none") -> str:
    if values is None:
        return "all namespaces"
    return ", ".join(f"`{v}`" for v in sorted(values)) or empty


def _fmt_time(when: datetime | None) -> str:
    if when is None:
        return "no token (no expiry)"
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def login_done(identity: Identity) -> str:
    return LOGIN_DONE.format(
        username=identity.username,
        roles=", ".join(sorted(identity.roles)) or "no role",
        namespaces=_fmt_set(identity.namespaces),
    )


def out_of_scope_channel(identity: Identity, channel_ns: frozenset[str]) -> str:
    return OUT_OF_SCOPE_CHANNEL.format(
        channel_ns=_fmt_set(channel_ns), user_ns=_fmt_set(identity.namespaces)
    )


def whoami(scope: EffectiveScope, *, mode: str, channel_ns: frozenset[str] | None, is_dm: bool) -> str:
    ident = scope.identity
    perms = scope.permissions
    if is_dm:
        where = "in this DM (your own namespaces)"
    elif channel_ns is None:
        where = "in this channel (no channel scope)"
    else:
        where = f"in this channel (scoped to {_fmt_set(channel_ns)})"
    own = "all namespaces" if perms.all_namespaces else _fmt_set(ident.namespaces)
    lines = [
        f"*You are* `{ident.username}` (Keycloak subject `{ident.subject}`, via {MODE_SOURCES[mode]})",
        f"*Roles:* {', '.join(sorted(ident.roles)) or 'none'}",
        f"*Your namespaces:* {own}",
        f"*You may see {where}:* {scope.describe()}",
        f"*Recommendations:* {'yes' if perms.may_recommend else 'no'} · "
        f"*Scheduled jobs:* {'yes' if perms.may_run_jobs else 'no'}",
        f"*Token expires:* {_fmt_time(ident.token_expires_at)}",
    ]
    return "\n".join(lines)
