"""Settings + secrets → the audit bucket, signer and verifier (BRIEF §3 wave 2 names).

S3 credentials come from the `audit_s3_access_key_id` / `audit_s3_secret_access_key` secret
files, or the SDK's default chain when absent. The KMS client (when `AIOPS_AUDIT_KMS_KEY_ID` is
set) uses the same credentials and the SDK's endpoint resolution (`AWS_ENDPOINT_URL_KMS`)."""

from __future__ import annotations

from typing import Any

from app.audit.digest import Ed25519Signer, KmsSigner, Signer, Verifier
from app.audit.s3 import AuditBucket
from app.config import Secrets, Settings
from kernel.errors import ConfigError


def _client(service: str, settings: Settings, secrets: Secrets, *, endpoint: str | None) -> Any:
    import boto3
    from botocore.config import Config

    kwargs: dict[str, Any] = {
        "region_name": settings.audit_s3_region or None,
        "config": Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            s3={"addressing_style": "path"} if endpoint else {},
        ),
    }
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    if secrets.audit_s3_access_key_id and secrets.audit_s3_secret_access_key:
        kwargs["aws_access_key_id"] = secrets.audit_s3_access_key_id.get_secret_value()
        kwargs["aws_secret_access_key"] = secrets.audit_s3_secret_access_key.get_secret_value()
    return boto3.client(service, **kwargs)


def build_bucket(settings: Settings, secrets: Secrets) -> AuditBucket:
    if not settings.audit_s3_bucket:
        raise ConfigError("AIOPS_AUDIT_S3_BUCKET", "required for audit export, verify and prune")
    client = _client("s3", settings, secrets, endpoint=settings.audit_s3_endpoint or None)
    return AuditBucket(
        client,
        bucket=settings.audit_s3_bucket,
        prefix=settings.audit_s3_prefix,
        lock_days=settings.audit_lock_days,
    )


def _kms(settings: Settings, secrets: Secrets) -> Any:
    return _client("kms", settings, secrets, endpoint=None)


def build_signer(settings: Settings, secrets: Secrets) -> Signer:
    if settings.audit_kms_key_id:
        return KmsSigner(_kms(settings, secrets), settings.audit_kms_key_id)
    if secrets.audit_signing_key is None:
        raise ConfigError(
            "secret audit_signing_key", "required to sign exports (or set AIOPS_AUDIT_KMS_KEY_ID)"
        )
    return Ed25519Signer(secrets.audit_signing_key.get_secret_value())


def build_verifier(settings: Settings, secrets: Secrets) -> Verifier:
    """Public keys: every PEM in AIOPS_AUDIT_PUBLIC_KEY (old keys stay there after a rotation)
    plus the one derived from the signing key, when that secret is present."""
    pems: list[bytes] = []
    if settings.audit_public_key is not None:
        try:
            pems.append(settings.audit_public_key.read_bytes())
        except OSError as exc:
            raise ConfigError("AIOPS_AUDIT_PUBLIC_KEY", f"cannot read ({type(exc).__name__})") from None
    verifier = Verifier.from_pems(
        pems, kms_client=_kms(settings, secrets) if settings.audit_kms_key_id else None
    )
    if secrets.audit_signing_key is not None:
        own = Ed25519Signer(secrets.audit_signing_key.get_secret_value())
        verifier.ed25519_keys[own.key_id] = own.public_key
    if not verifier.ed25519_keys and verifier.kms_client is None:
        raise ConfigError("AIOPS_AUDIT_PUBLIC_KEY", "no public key: set it, or provide audit_signing_key")
    return verifier
