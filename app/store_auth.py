"""Store credentials from secret files and TLS for the store connections (issue 12).

- PostgreSQL: `postgres_password` is used when DATABASE_URL has no password (load_settings
  refuses one that has); asyncpg calls our function for every new connection, so a rotated
  file is used by the next connection. `sslmode=verify-full` / `verify-ca` in the URL verify
  the server against AIOPS_CA_BUNDLE when it is set.
- Redis: `redis_password` through a credential provider (read per new connection; a user
  name in REDIS_URL is kept); `rediss://` verifies against AIOPS_CA_BUNDLE when set.
Nothing here ever puts a password into a URL, an exception text or a repr.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from redis.credentials import CredentialProvider


@dataclass(frozen=True)
class StoreCredentials:
    secrets_dir: Path
    ca_bundle: Path | None = None

    def read(self, name: str) -> str | None:
        try:
            return (self.secrets_dir / name).read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError):
            return None

    def __repr__(self) -> str:  # paths only; no value is ever held
        return f"StoreCredentials(secrets_dir={str(self.secrets_dir)!r}, ca_bundle={self.ca_bundle!r})"


class FilePasswordProvider(CredentialProvider):
    def __init__(self, creds: StoreCredentials, username: str | None) -> None:
        self._creds = creds
        self._username = username

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        password = self._creds.read("redis_password") or ""
        return (self._username, password) if self._username else (password,)

    async def get_credentials_async(self) -> tuple[str] | tuple[str, str]:
        return self.get_credentials()

    def __repr__(self) -> str:
        return "FilePasswordProvider(redis_password)"


def redis_connection(url: str, creds: StoreCredentials | None) -> tuple[str, dict[str, Any]]:
    """(URL, extra `Redis.from_url` options) for REDIS_URL plus the secret file and CA bundle."""
    options: dict[str, Any] = {}
    parts = urlsplit(url)
    if creds is None:
        return url, options
    if creds.read("redis_password") is not None:
        username = unquote(parts.username) if parts.username else None
        host = parts.netloc.rsplit("@", 1)[-1]
        url = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        options["credential_provider"] = FilePasswordProvider(creds, username)
    if parts.scheme == "rediss" and creds.ca_bundle is not None:
        options["ssl_ca_certs"] = str(creds.ca_bundle)
        options["ssl_cert_reqs"] = "required"
    return url, options


def postgres_options(url: str, creds: StoreCredentials | None) -> dict[str, Any]:
    """Extra `asyncpg.create_pool` options for DATABASE_URL plus the secret file and CA bundle."""
    options: dict[str, Any] = {}
    if creds is None:
        return options
    parts = urlsplit(url)
    if parts.password is None and creds.read("postgres_password") is not None:
        options["password"] = lambda: creds.read("postgres_password") or ""
    mode = (parse_qs(parts.query).get("sslmode") or [""])[0]
    if mode in ("verify-ca", "verify-full") and creds.ca_bundle is not None:
        ctx = ssl.create_default_context(cafile=str(creds.ca_bundle))
        ctx.check_hostname = mode == "verify-full"
        options["ssl"] = ctx
    return options
