"""Slack user ↔ Keycloak subject links (device mode), with the refresh token encrypted.

AES-256-GCM with a key derived (HKDF-SHA256) from the `link_encryption_key` secret; the
associated data binds a ciphertext to its Slack user and subject, so a row copied onto another
user does not decrypt. Only the refresh token is secret; access tokens are never stored.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

_VERSION = b"\x01"
_NONCE = 12


class LinkUnreadable(Exception):
    """The stored refresh token does not decrypt (key changed or row tampered with)."""


@dataclass(frozen=True)
class Link:
    slack_user_id: str
    subject: str
    refresh_token: SecretStr
    refresh_expires_at: datetime | None = None


class LinkCipher:
    def __init__(self, *, key: SecretStr) -> None:
        secret = key.get_secret_value().encode("utf-8")
        if len(secret) < 16:
            raise ValueError("link_encryption_key must be at least 16 characters")
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"aiops identity links", info=b"refresh token v1"
        ).derive(secret)
        self._aead = AESGCM(derived)

    @staticmethod
    def _aad(slack_user_id: str, subject: str) -> bytes:
        return f"{slack_user_id}\x00{subject}".encode()

    def encrypt(self, plaintext: str, *, slack_user_id: str, subject: str) -> bytes:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self._aad(slack_user_id, subject))
        return _VERSION + nonce + sealed

    def decrypt(self, blob: bytes, *, slack_user_id: str, subject: str) -> str:
        if len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
            raise LinkUnreadable("unknown format")
        nonce, body = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        try:
            return self._aead.decrypt(nonce, body, self._aad(slack_user_id, subject)).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise LinkUnreadable("does not decrypt") from None


class LinkStore(Protocol):
    async def get(self, slack_user_id: str) -> Link | None: ...

    async def put(self, link: Link) -> None: ...

    async def delete(self, slack_user_id: str) -> bool: ...

    async def users_of(self, subject: str) -> list[str]:
        """The Slack users linked to this Keycloak subject."""
        ...

    async def all(self) -> list[tuple[str, str]]:
        """Every (slack user id, subject), oldest first."""
        ...

    def locked(self, slack_user_id: str) -> AbstractAsyncContextManager[LinkStore]:
        """Exclusive use of one user's link across processes (for the refresh round trip):
        the store yielded reads and writes under that lock."""
        ...


_LOCK_CLASS = 0x4C_49_4E_4B  # "LINK": advisory-lock namespace of identity links


class PostgresLinkStore:
    def __init__(self, *, pool: asyncpg.Pool | asyncpg.Connection, cipher: LinkCipher) -> None:
        self._pool = pool
        self._cipher = cipher

    @asynccontextmanager
    async def locked(self, slack_user_id: str) -> AsyncIterator[LinkStore]:
        # Two workers refreshing one user at once would both present the same refresh token;
        # with rotation on, the second is refused and the user logged out. A transaction-level
        # advisory lock serialises them; reads/writes use the same connection (no pool deadlock).
        if not isinstance(self._pool, asyncpg.Pool):
            yield self  # already inside a locked scope
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, slack_user_id)
            yield PostgresLinkStore(pool=conn, cipher=self._cipher)

    async def get(self, slack_user_id: str) -> Link | None:
        row = await self._pool.fetchrow(
            "SELECT subject, refresh_token_enc, refresh_expires_at FROM identity_links"
            " WHERE slack_user_id = $1",
            slack_user_id,
        )
        if row is None:
            return None
        token = self._cipher.decrypt(
            bytes(row["refresh_token_enc"]), slack_user_id=slack_user_id, subject=row["subject"]
        )
        return Link(slack_user_id, row["subject"], SecretStr(token), row["refresh_expires_at"])

    async def put(self, link: Link) -> None:
        blob = self._cipher.encrypt(
            link.refresh_token.get_secret_value(), slack_user_id=link.slack_user_id, subject=link.subject
        )
        await self._pool.execute(
            """INSERT INTO identity_links (slack_user_id, subject, refresh_token_enc, refresh_expires_at)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (slack_user_id) DO UPDATE SET subject = EXCLUDED.subject,
                   refresh_token_enc = EXCLUDED.refresh_token_enc,
                   refresh_expires_at = EXCLUDED.refresh_expires_at, updated_at = NOW()""",
            link.slack_user_id,
            link.subject,
            blob,
            link.refresh_expires_at,
        )

    async def users_of(self, subject: str) -> list[str]:
        rows = await self._pool.fetch(
            "SELECT slack_user_id FROM identity_links WHERE subject = $1 ORDER BY created_at", subject
        )
        return [str(r["slack_user_id"]) for r in rows]

    async def all(self) -> list[tuple[str, str]]:
        rows = await self._pool.fetch("SELECT slack_user_id, subject FROM identity_links ORDER BY created_at")
        return [(str(r["slack_user_id"]), str(r["subject"])) for r in rows]

    async def delete(self, slack_user_id: str) -> bool:
        status = await self._pool.execute(
            "DELETE FROM identity_links WHERE slack_user_id = $1", slack_user_id
        )
        return bool(status.endswith(" 1"))
