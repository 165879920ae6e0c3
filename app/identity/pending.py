"""Device logins in flight, kept in Redis so any worker can finish one (issue 12, item 6).

`/aiops login` starts Keycloak's device flow on the worker that got the command; polling the token
endpoint then takes up to `expires_in` (10 min). That worker may be killed, scaled down or
redeployed meanwhile, so the login's state lives in Redis, not in its memory:

- `{p}:login:{user}` — a hash: the login's id, the device code (AES-GCM with the
  `link_encryption_key`, bound to the user and login id: Redis alone cannot complete a login),
  what the user was shown, interval, start time, the previously linked subject. TTL = expires_in.
- `{p}:login:{user}:lease` — which poller owns it (a random claim token), with a short TTL renewed
  before every poll. Only the owner polls, so Keycloak's one-time answer reaches one worker.
- `{p}:logins` — a sorted set user → expiry, so a worker finds orphaned logins without SCAN.

A worker that dies stops renewing; its lease lapses and the next sweep of any worker claims the
login and goes on polling with the same device code. A new `/aiops login` replaces the state (new
id, new lease) and `/aiops logout` deletes it: the old poller's next renewal fails and it stops
without a word. The outcome is reported once: `finish()` deletes the state only for the login id
and claim that own it, and only the caller that deleted it writes the audit row and tells the user.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from app.identity.links import LinkCipher, LinkUnreadable
from app.identity.provider import DeviceLogin

log = logging.getLogger(__name__)

MIN_LEASE_S = 10.0
"""A lease outlives a couple of polls and a slow token request (the client's own timeout is 10 s)."""

# Renew the lease if (and only if) this claim still owns this login.
_RENEW = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""
# Take over a login nobody polls (no lease): a new claim token.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
# The end of this login: state, lease and index entry go, once, for its owner only.
_FINISH = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[3])
return 1
"""
# Let go of a login (graceful shutdown) so another worker resumes it at its next sweep.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Claim:
    """One poller's hold on one login: the login, whom it replaces, and the lease token."""

    user: str
    login_id: str
    login: DeviceLogin
    had: str | None
    token: str


class PendingLogins:
    def __init__(self, *, redis: aioredis.Redis, prefix: str, cipher: LinkCipher,
                 clock: Any = time.time) -> None:
        self._redis = redis
        self._prefix = prefix
        self._cipher = cipher
        self._clock = clock
        self._renew = redis.register_script(_RENEW)
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)
        self._release = redis.register_script(_RELEASE)

    def _keys(self, user: str) -> list[str]:
        state = f"{self._prefix}:login:{user}"
        return [state, f"{state}:lease", f"{self._prefix}:logins"]

    @staticmethod
    def lease_ms(interval: float) -> int:
        return int(max(MIN_LEASE_S, 2 * interval + 5) * 1000)

    async def start(self, user: str, login: DeviceLogin, had: str | None) -> Claim:
        """Store a new login (replacing any other of this user) owned by the caller."""
        login_id, token = secrets.token_hex(16), secrets.token_hex(16)
        state, lease, index = self._keys(user)
        sealed = self._cipher.encrypt(login.device_code, slack_user_id=user, subject=_aad(login_id))
        ttl_s = max(1, int(login.expires_in))
        mapping: dict[str, str | bytes] = {
            "id": login_id, "device": sealed, "user_code": login.user_code,
            "uri": login.verification_uri, "uri_complete": login.verification_uri_complete or "",
            "expires_in": str(login.expires_in), "interval": str(login.interval),
            "started_at": repr(login.started_at or self._clock()), "had": had or "",
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(state)
            pipe.hset(state, mapping=mapping)  # type: ignore[arg-type]
            pipe.expire(state, ttl_s)
            pipe.set(lease, token, px=self.lease_ms(login.interval))
            pipe.zadd(index, {user: self._clock() + ttl_s})
            await pipe.execute()
        return Claim(user, login_id, login, had, token)

    async def renew(self, claim: Claim, interval: float) -> bool:
        """Before each poll: still this login, still ours? (False → stop quietly)."""
        state, lease, _ = self._keys(claim.user)
        return bool(await self._renew(keys=[state, lease], args=[claim.login_id, claim.token,
                                                                  self.lease_ms(interval)]))

    async def finish(self, claim: Claim) -> bool:
        """True exactly once per login, for its owner: the caller reports the outcome."""
        return bool(await self._finish(keys=self._keys(claim.user),
                                       args=[claim.login_id, claim.token, claim.user]))

    async def release(self, claim: Claim) -> None:
        _, lease, _ = self._keys(claim.user)
        await self._release(keys=[lease], args=[claim.token])

    async def drop(self, user: str) -> None:
        """`/aiops logout`: whoever polls for this user stops at its next renewal."""
        state, lease, index = self._keys(user)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(state, lease)
            pipe.zrem(index, user)
            await pipe.execute()

    async def orphans(self) -> list[Claim]:
        """Claim every live login whose poller is gone (its lease lapsed)."""
        index = f"{self._prefix}:logins"
        await self._redis.zremrangebyscore(index, "-inf", self._clock())
        claims = []
        for raw in await self._redis.zrange(index, 0, -1):
            user = raw.decode() if isinstance(raw, bytes) else str(raw)
            claim = await self._take(user)
            if claim is not None:
                claims.append(claim)
        return claims

    async def _take(self, user: str) -> Claim | None:
        state, lease, _ = self._keys(user)
        fields = await self._redis.hgetall(state)
        if not fields:
            return None
        token = secrets.token_hex(16)
        try:
            interval = float(_text(fields, "interval") or 5)
        except ValueError:  # tampered with: one bad login never stops the sweep of the others
            log.error("identity: a pending login could not be resumed (ValueError)")
            await self.drop(user)
            return None
        if not await self._claim(keys=[state, lease], args=[token, self.lease_ms(interval)]):
            return None
        try:
            return self._restore(user, fields, token)
        except (LinkUnreadable, KeyError, ValueError) as exc:  # key changed or state tampered with
            log.error("identity: a pending login could not be resumed (%s)", type(exc).__name__)
            await self.drop(user)
            return None

    def _restore(self, user: str, fields: dict[Any, Any], token: str) -> Claim:
        login_id = _text(fields, "id")
        device = self._cipher.decrypt(fields[b"device"], slack_user_id=user, subject=_aad(login_id))
        login = DeviceLogin(
            user_code=_text(fields, "user_code"), verification_uri=_text(fields, "uri"),
            verification_uri_complete=_text(fields, "uri_complete") or None,
            expires_in=int(_text(fields, "expires_in")), interval=int(_text(fields, "interval")),
            device_code=device, started_at=float(_text(fields, "started_at")),
        )
        return Claim(user, login_id, login, _text(fields, "had") or None, token)


def _aad(login_id: str) -> str:
    return f"device-login:{login_id}"


def _text(fields: dict[Any, Any], name: str) -> str:
    value = fields[name.encode()]
    return value.decode() if isinstance(value, bytes) else str(value)
