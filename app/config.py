"""Settings (environment) and secrets (files) — read once, by the composition root.

Nothing here runs at import time. `load_settings()` and `load_secrets()` raise
`ConfigError` naming the offending setting; the CLI turns that into one line and exit 2.
Secrets are only ever read from files in AIOPS_SECRETS_DIR, never from the environment,
and are held as `SecretStr` so that repr/str/logging print '**********'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.errors import ConfigError

DEFAULT_SECRETS_DIR = Path("/var/run/secrets/aiops")
DEFAULT_DATA_DIR = Path(".aiops")
DEFAULT_MODEL = "claude-sonnet-5-5"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """BRIEF §3 "Settings" (contract). Field ↔ environment variable via the alias."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", populate_by_name=True)

    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    anthropic_base_url: str | None = Field(None, validation_alias=_env("ANTHROPIC_BASE_URL"))
    model: str = Field(DEFAULT_MODEL, validation_alias=_env("AIOPS_MODEL"))
    llm_provider: Literal["anthropic", "openai"] = Field(
        "anthropic", validation_alias=_env("AIOPS_LLM_PROVIDER")
    )
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    qdrant_url: str | None = Field(None, validation_alias=_env("QDRANT_URL"))
    data_dir: Path = Field(DEFAULT_DATA_DIR, validation_alias=_env("AIOPS_DATA_DIR"))
    prometheus_url: str | None = Field(None, validation_alias=_env("PROMETHEUS_URL"))
    kubeconfig: Path | None = Field(None, validation_alias=_env("KUBECONFIG"))
    keycloak_url: str | None = Field(None, validation_alias=_env("KEYCLOAK_URL"))
    keycloak_realm: str = Field("aiops", validation_alias=_env("KEYCLOAK_REALM"))
    keycloak_client_id: str = Field("aiops-bot", validation_alias=_env("KEYCLOAK_CLIENT_ID"))
    keycloak_audience: str = Field("aiops", validation_alias=_env("KEYCLOAK_AUDIENCE"))
    identity_mode: Literal["device", "directory", "static"] = Field(
        "device", validation_alias=_env("AIOPS_IDENTITY_MODE")
    )
    static_identities: Path | None = Field(None, validation_alias=_env("AIOPS_STATIC_IDENTITIES"))
    env: Literal["dev", "staging", "prod"] = Field("prod", validation_alias=_env("AIOPS_ENV"))
    incident_channel: str | None = Field(None, validation_alias=_env("AIOPS_INCIDENT_CHANNEL"))
    channel_scopes: Path | None = Field(None, validation_alias=_env("AIOPS_CHANNEL_SCOPES"))
    http_port: int = Field(3000, ge=1, le=65535, validation_alias=_env("AIOPS_HTTP_PORT"))
    api_port: int = Field(8080, ge=1, le=65535, validation_alias=_env("AIOPS_API_PORT"))
    keycloak_web_client_id: str = Field(
        "aiops-web", min_length=1, validation_alias=_env("KEYCLOAK_WEB_CLIENT_ID")
    )
    api_ask_per_minute: int = Field(20, ge=1, validation_alias=_env("AIOPS_API_ASK_PER_MINUTE"))
    api_read_per_minute: int = Field(240, ge=1, validation_alias=_env("AIOPS_API_READ_PER_MINUTE"))
    agent_version: str = Field("dev", min_length=1, validation_alias=_env("AIOPS_AGENT_VERSION"))
    secrets_dir: Path = Field(DEFAULT_SECRETS_DIR, validation_alias=_env("AIOPS_SECRETS_DIR"))
    # Not in the contract table; our own knobs (documented in docs/configuration.md).
    redis_prefix: str = Field("aiops", min_length=1, validation_alias=_env("AIOPS_REDIS_PREFIX"))
    daily_token_budget: int = Field(2_000_000, ge=0, validation_alias=_env("AIOPS_DAILY_TOKEN_BUDGET"))
    # Absent → runbook search stays sparse-only (BM25); set → dense vectors fused with it (RRF).
    embeddings_url: str | None = Field(None, validation_alias=_env("AIOPS_EMBEDDINGS_URL"))
    embeddings_model: str = Field(
        "text-embedding-3-small", min_length=1, validation_alias=_env("AIOPS_EMBEDDINGS_MODEL")
    )
    # Wave-2 contract switches (issue 11): channel scope fails closed, bound logins, link hosts.
    channel_default: Literal["deny", "own"] = Field("deny", validation_alias=_env("AIOPS_CHANNEL_DEFAULT"))
    link_binding: Literal["email", "attribute"] = Field("email", validation_alias=_env("AIOPS_LINK_BINDING"))
    link_max_slack_users: int = Field(1, ge=1, le=100, validation_alias=_env("AIOPS_LINK_MAX_SLACK_USERS"))
    prometheus_external_url: str | None = Field(None, validation_alias=_env("AIOPS_PROMETHEUS_EXTERNAL_URL"))
    alertmanager_external_url: str | None = Field(
        None, validation_alias=_env("AIOPS_ALERTMANAGER_EXTERNAL_URL")
    )
    # Production (issue 12): /metrics (+ health for `aiops worker`) on their own port; log format;
    # the tools kill switch; one CA bundle for every outgoing TLS connection.
    metrics_port: int = Field(9464, ge=1, le=65535, validation_alias=_env("AIOPS_METRICS_PORT"))
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("AIOPS_LOG_FORMAT"))
    tools_paused: bool = Field(False, validation_alias=_env("AIOPS_TOOLS_PAUSED"))
    ca_bundle: Path | None = Field(None, validation_alias=_env("AIOPS_CA_BUNDLE"))
    # Audit export (BRIEF §3 wave 2); used by `aiops audit export|verify|prune` only.
    audit_s3_bucket: str | None = Field(None, validation_alias=_env("AIOPS_AUDIT_S3_BUCKET"))
    audit_s3_endpoint: str | None = Field(None, validation_alias=_env("AIOPS_AUDIT_S3_ENDPOINT"))
    audit_s3_region: str | None = Field(None, validation_alias=_env("AIOPS_AUDIT_S3_REGION"))
    audit_s3_prefix: str = Field("audit/", validation_alias=_env("AIOPS_AUDIT_S3_PREFIX"))
    audit_kms_key_id: str | None = Field(None, validation_alias=_env("AIOPS_AUDIT_KMS_KEY_ID"))
    audit_public_key: Path | None = Field(None, validation_alias=_env("AIOPS_AUDIT_PUBLIC_KEY"))
    audit_lock_days: int = Field(90, ge=1, validation_alias=_env("AIOPS_AUDIT_LOCK_DAYS"))

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v if v.endswith("/") else v + "/"

    @field_validator("prometheus_external_url", "alertmanager_external_url")
    @classmethod
    def _external_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v

    @field_validator("embeddings_url")
    @classmethod
    def _embeddings_base_url(cls, v: str | None) -> str | None:
        if not v:
            return None  # an empty variable means "not configured", like an absent one
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/")  # the client appends "/embeddings"


_FIELD_TO_ENV = {
    name: (f.validation_alias.choices[0] if isinstance(f.validation_alias, AliasChoices) else name)
    for name, f in Settings.model_fields.items()
}


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build Settings from an explicit environment mapping; ConfigError names the variable."""
    try:
        settings = Settings.model_validate(dict(environ))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        env_name = str(_FIELD_TO_ENV.get(field, field))
        raise ConfigError(env_name, err["msg"].lower()) from None
    if settings.identity_mode == "static" and settings.env != "dev":
        raise ConfigError("AIOPS_IDENTITY_MODE", "'static' is only allowed with AIOPS_ENV=dev")
    if settings.identity_mode == "static" and settings.static_identities is None:
        raise ConfigError("AIOPS_STATIC_IDENTITIES", "required when AIOPS_IDENTITY_MODE=static")
    if settings.llm_provider == "openai" and not settings.openai_base_url:
        raise ConfigError("OPENAI_BASE_URL", "required when AIOPS_LLM_PROVIDER=openai")
    if settings.identity_mode in ("device", "directory") and not settings.keycloak_url:
        raise ConfigError("KEYCLOAK_URL", f"required when AIOPS_IDENTITY_MODE={settings.identity_mode}")
    for env_name, url, secret in url_secrets(settings):
        if url and _has_password(url):
            raise ConfigError(env_name, f"must not contain a password: put it in the secret file {secret}")
    if settings.ca_bundle is not None and not settings.ca_bundle.is_file():
        raise ConfigError("AIOPS_CA_BUNDLE", f"no such file {settings.ca_bundle}")
    return settings


def url_secrets(settings: Settings) -> list[tuple[str, str | None, str]]:
    """Settings that are URLs → the secret file that holds their credential instead."""
    return [
        ("DATABASE_URL", settings.database_url, "postgres_password"),
        ("REDIS_URL", settings.redis_url, "redis_password"),
        ("QDRANT_URL", settings.qdrant_url, "qdrant_api_key"),
        ("PROMETHEUS_URL", settings.prometheus_url, "prometheus_password"),
        ("KEYCLOAK_URL", settings.keycloak_url, "keycloak_client_secret"),
    ]


def _has_password(url: str) -> bool:
    """A password in the URL's userinfo, or in a libpq-style `password=` query parameter."""
    from urllib.parse import parse_qs, urlsplit

    try:
        parts = urlsplit(url)
        has_user_password = parts.password is not None
    except ValueError:  # an unparseable URL: let its client report it, but never echo it
        return ":" in url.split("@", 1)[0].split("//", 1)[-1] and "@" in url
    query = parse_qs(parts.query, keep_blank_values=True)
    return has_user_password or "password" in {k.lower() for k in query}


SECRET_NAMES = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "anthropic_api_key",
    "openai_api_key",
    "alertmanager_token",
    "keycloak_client_secret",
    "audit_signing_key",
    "link_encryption_key",
    "embeddings_api_key",
    "web_session_key",
    # store and backend credentials (issue 12), each optional
    "postgres_password",
    "redis_password",
    "qdrant_api_key",
    "prometheus_token",
    "prometheus_username",
    "prometheus_password",
    "audit_s3_access_key_id",
    "audit_s3_secret_access_key",
)
REQUIRED_SECRETS = ("slack_bot_token", "slack_signing_secret", "alertmanager_token")


@dataclass(frozen=True)
class Secrets:
    """Secret values read from one file each. Absent optional secrets are None."""

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr
    alertmanager_token: SecretStr
    slack_app_token: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    keycloak_client_secret: SecretStr | None = None
    audit_signing_key: SecretStr | None = None
    link_encryption_key: SecretStr | None = None
    embeddings_api_key: SecretStr | None = None
    web_session_key: SecretStr | None = None
    postgres_password: SecretStr | None = None
    redis_password: SecretStr | None = None
    qdrant_api_key: SecretStr | None = None
    prometheus_token: SecretStr | None = None
    prometheus_username: SecretStr | None = None
    prometheus_password: SecretStr | None = None

    audit_s3_access_key_id: SecretStr | None = None
    audit_s3_secret_access_key: SecretStr | None = None


class AbsentSecret(SecretStr):
    """Stands in for a secret this command did not require (e.g. Slack's for `aiops migrate`):
    reading it fails closed with the same one-line error a missing required file gives."""

    def __init__(self, name: str, path: Path) -> None:
        super().__init__("")
        self._where = (name, path)

    def get_secret_value(self) -> str:
        name, path = self._where
        raise ConfigError(f"secret {name}", f"missing or empty file {path}")


def load_secrets(secrets_dir: Path, *, required: tuple[str, ...] = REQUIRED_SECRETS) -> Secrets:
    """Read every known secret file; a required one missing or empty raises ConfigError.
    The always-present fields (Slack, Alertmanager) that this command does not require and that
    are absent become `AbsentSecret`s.

    The error names the file, never its content.
    """
    values: dict[str, SecretStr | None] = {}
    for name in SECRET_NAMES:
        path = secrets_dir / name
        try:
            raw = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raw = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"secret {name}", f"cannot read {path} ({type(exc).__name__})") from None
        if not raw:
            if name in required:
                raise ConfigError(f"secret {name}", f"missing or empty file {path}")
            values[name] = AbsentSecret(name, path) if name in REQUIRED_SECRETS else None
        else:
            values[name] = SecretStr(raw)
    return Secrets(**values)  # type: ignore[arg-type]
