"""Build the `IdentityService` for `AIOPS_IDENTITY_MODE` — called once by the composition root.

Each mode's requirements are checked here and reported as one `ConfigError` line naming the
setting or secret, before anything starts.
"""

from __future__ import annotations

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from app.config import Secrets, Settings
from app.identity.binding import LinkBinding, slack_email_lookup
from app.identity.channel_info import SharedChannels
from app.identity.channels import load_channel_scopes
from app.identity.device import DeviceFlowProvider
from app.identity.directory import DirectoryProvider
from app.identity.keycloak import KeycloakClient
from app.identity.links import LinkCipher, PostgresLinkStore
from app.identity.pending import PendingLogins
from app.identity.provider import IdentityProvider
from app.identity.service import IdentityService, Notify
from app.identity.static import StaticProvider
from app.identity.tokens import JwksCache, TokenVerifier
from app.thread_intake import ThreadNamespaces
from kernel.audit import AuditSink
from kernel.errors import ConfigError
from kernel.metrics import Metrics


def slack_dm_notifier(slack: AsyncWebClient) -> Notify:
    """Tell a user something privately: posting to a user id lands in their DM with the app."""

    async def notify(slack_user_id: str, text: str) -> None:
        await slack.chat_postMessage(channel=slack_user_id, text=text)

    return notify


def build_provider(
    settings: Settings,
    secrets: Secrets,
    *,
    pool: asyncpg.Pool | None,
    slack: AsyncWebClient | None,
    http: aiohttp.ClientSession | None = None,
) -> IdentityProvider:
    mode = settings.identity_mode
    if mode == "static":
        if settings.static_identities is None:
            raise ConfigError("AIOPS_STATIC_IDENTITIES", "required when AIOPS_IDENTITY_MODE=static")
        return StaticProvider.from_file(settings.static_identities, env=settings.env)
    if not settings.keycloak_url:
        raise ConfigError("KEYCLOAK_URL", f"required when AIOPS_IDENTITY_MODE={mode}")
    keycloak = KeycloakClient(
        base_url=settings.keycloak_url,
        realm=settings.keycloak_realm,
        client_id=settings.keycloak_client_id,
        client_secret=secrets.keycloak_client_secret,
        session=http,
    )
    if mode == "directory":
        if secrets.keycloak_client_secret is None:
            raise ConfigError(
                "secret keycloak_client_secret",
                "required when AIOPS_IDENTITY_MODE=directory (the bot's client-credentials token)",
            )
        if slack is None:
            raise ConfigError("AIOPS_IDENTITY_MODE", "directory mode needs the Slack client (users.info)")
        return DirectoryProvider(slack=slack, keycloak=keycloak)
    if secrets.link_encryption_key is None:
        raise ConfigError("secret link_encryption_key", "required when AIOPS_IDENTITY_MODE=device")
    try:
        cipher = LinkCipher(key=secrets.link_encryption_key)
    except ValueError as exc:
        raise ConfigError("secret link_encryption_key", str(exc)) from None
    if pool is None:
        raise ConfigError("DATABASE_URL", "device mode stores identity links in PostgreSQL")
    verifier = TokenVerifier(
        jwks=JwksCache(fetch=keycloak.jwks), issuer=keycloak.issuer, audience=settings.keycloak_audience
    )
    if settings.link_binding == "email" and slack is None:
        raise ConfigError("AIOPS_LINK_BINDING", "email binding needs the Slack client (users.info)")
    binding = LinkBinding(
        mode=settings.link_binding,
        slack_email=slack_email_lookup(slack) if slack is not None else None,
        max_slack_users=settings.link_max_slack_users,
    )
    return DeviceFlowProvider(
        keycloak=keycloak,
        verifier=verifier,
        links=PostgresLinkStore(pool=pool, cipher=cipher),
        binding=binding,
    )


def build_identity_service(
    settings: Settings,
    secrets: Secrets,
    *,
    audit: AuditSink,
    metrics: Metrics,
    pool: asyncpg.Pool | None = None,
    slack: AsyncWebClient | None = None,
    notify: Notify | None = None,
    http: aiohttp.ClientSession | None = None,
    alert_thread: ThreadNamespaces | None = None,
    redis: aioredis.Redis | None = None,
) -> IdentityService:
    """`redis`: device logins in flight are kept there, so any worker finishes them."""
    channel_scopes = load_channel_scopes(settings.channel_scopes)
    provider = build_provider(settings, secrets, pool=pool, slack=slack, http=http)
    pending = None
    if isinstance(provider, DeviceFlowProvider) and redis is not None and secrets.link_encryption_key:
        cipher = LinkCipher(key=secrets.link_encryption_key)  # checked by build_provider
        pending = PendingLogins(redis=redis, prefix=settings.redis_prefix, cipher=cipher)
    if notify is None and slack is not None:
        notify = slack_dm_notifier(slack)
    return IdentityService(
        provider=provider,
        channel_scopes=channel_scopes,
        audit=audit,
        metrics=metrics,
        incident_channel=settings.incident_channel,
        notify=notify,
        channel_default=settings.channel_default,
        shared_channels=SharedChannels(slack=slack) if slack is not None else None,
        alert_thread=alert_thread,
        pending=pending,
    )
