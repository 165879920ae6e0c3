"""The audit bucket: S3-compatible (AWS, MinIO), Object Lock required, every object written
COMPLIANCE-locked for `lock_days` and encrypted at rest (SSE).

boto3 is blocking: callers run these methods with `asyncio.to_thread`. Keys follow BRIEF §3:
`{prefix}{YYYY}/{MM}/{DD}/events.jsonl.gz` and `…/digest.json`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from kernel.errors import ConfigError, StoreUnavailable

EXPORT_NAME, DIGEST_NAME = "events.jsonl.gz", "digest.json"
CHUNK = 1 << 20
_DAY = re.compile(r"(\d{4})/(\d{2})/(\d{2})/" + re.escape(DIGEST_NAME) + "$")


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


@dataclass(frozen=True)
class Version:
    version_id: str
    delete_marker: bool


def day_prefix(prefix: str, day: date) -> str:
    return f"{prefix}{day:%Y/%m/%d}/"


def export_key(prefix: str, day: date) -> str:
    return day_prefix(prefix, day) + EXPORT_NAME


def digest_key(prefix: str, day: date) -> str:
    return day_prefix(prefix, day) + DIGEST_NAME


class AuditBucket:
    def __init__(self, client: Any, *, bucket: str, prefix: str = "audit/", lock_days: int = 90) -> None:
        self._s3 = client
        self.bucket = bucket
        self.prefix = prefix
        self.lock_days = lock_days

    def _call(self, op: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._s3, op)(Bucket=self.bucket, **kwargs)
        except (EndpointConnectionError, BotoCoreError) as exc:
            raise StoreUnavailable(f"object store unreachable ({type(exc).__name__})") from None

    def require_object_lock(self) -> None:
        """Refuse a bucket without Object Lock: an export there could be silently replaced."""
        try:
            conf = self._call("get_object_lock_configuration")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            raise ConfigError("AIOPS_AUDIT_S3_BUCKET", f"{self.bucket}: no Object Lock ({code})") from None
        if conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise ConfigError("AIOPS_AUDIT_S3_BUCKET", f"{self.bucket}: Object Lock is not enabled")

    def put_locked(self, key: str, body: IO[bytes] | bytes, *, content_type: str) -> str:
        """Write one object, COMPLIANCE-locked and SSE-encrypted; returns its version id."""
        until = datetime.now(UTC) + timedelta(days=self.lock_days)
        out = self._call(
            "put_object",
            Key=key,
            Body=body,
            ContentType=content_type,
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=until,
            ServerSideEncryption="AES256",
        )
        return str(out.get("VersionId") or "")

    def versions(self, prefix: str | None = None) -> dict[str, list[Version]]:
        """Every version and delete marker under the prefix: the current one (S3's IsLatest)
        first, then the other versions newest first (S3's listing order), then delete markers."""
        out: dict[str, list[tuple[int, Version]]] = {}
        kwargs: dict[str, Any] = {"Prefix": self.prefix if prefix is None else prefix}
        n = 0
        while True:
            page = self._call("list_object_versions", **kwargs)
            for marker, items in ((False, page.get("Versions", [])), (True, page.get("DeleteMarkers", []))):
                for v in items:
                    n += 1
                    rank = 0 if v.get("IsLatest") else n + (1 << 30 if marker else 0)
                    out.setdefault(v["Key"], []).append((rank, Version(str(v["VersionId"]), marker)))
            if not page.get("IsTruncated"):
                break
            kwargs.update(KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"])
        return {k: [v for _, v in sorted(vs, key=lambda e: e[0])] for k, vs in out.items()}

    def digest_days(self, versions: dict[str, list[Version]]) -> list[date]:
        days = []
        for key in versions:
            m = _DAY.search(key[len(self.prefix) :]) if key.startswith(self.prefix) else None
            if m:
                days.append(date(int(m[1]), int(m[2]), int(m[3])))
        return sorted(days)

    def read(self, key: str, version_id: str) -> bytes:
        return bytes(self._call("get_object", Key=key, VersionId=version_id)["Body"].read())

    def download(self, key: str, version_id: str, into: Writable) -> None:
        body = self._call("get_object", Key=key, VersionId=version_id)["Body"]
        for chunk in body.iter_chunks(CHUNK):
            into.write(chunk)
