"""A wire-faithful Keycloak (one realm, one client) on 127.0.0.1, for tests and `aiops demo`.

Paths and bodies as Keycloak serves them:
`/realms/{realm}/.well-known/openid-configuration`, `/realms/{realm}/protocol/openid-connect/certs`
(JWKS, `rotate_keys()`), `…/token` (device_code, refresh_token, client_credentials grants; OAuth
error bodies with HTTP 400/401), `…/auth/device`, and the Admin API user search
`/admin/realms/{realm}/users?email=…&exact=true` plus `/users/{id}/groups` (bearer from a
client-credentials grant required). Access tokens are RS256 JWTs in Keycloak's claim layout;
`aiops_namespaces`/`aiops_roles` come from user attributes aggregated with group attributes,
as the Keycloak "User Attribute" mapper (multivalued, aggregated) produces them.

    async with KeycloakSim() as kc:
        kc.add_user("vera", email="vera@example.com", namespaces=["team-a"], roles=["viewer"])
        ... bot starts a device login ...
        kc.approve(user_code, "vera")

Test controls: `approve/deny/expire/slow_down(user_code)`, `mint(claims, key=, alg=, headers=)`
for forged tokens, `revoke_refresh_tokens()`, `fail_next(n, status)`, and `requests` (every call).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from sim.keycloak_login import CodeFlow
from sim.loopback import LoopbackServer

JSON = dict[str, Any]
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class SimUser:
    username: str
    email: str | None = None
    email_verified: bool = True
    enabled: bool = True
    attributes: dict[str, list[str]] = field(default_factory=dict)
    groups: list[JSON] = field(default_factory=list)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def claim(self, name: str) -> list[str]:
        values = list(self.attributes.get(name, []))
        for group in self.groups:
            values += [v for v in group.get("attributes", {}).get(name, []) if v not in values]
        return values

    def to_admin(self) -> JSON:
        rep: JSON = {"id": self.id, "username": self.username, "enabled": self.enabled,
                     "emailVerified": self.email_verified, "attributes": self.attributes,
                     "createdTimestamp": 0, "totp": False, "disableableCredentialTypes": [],
                     "requiredActions": [], "notBefore": 0}
        if self.email is not None:
            rep["email"] = self.email
        return rep


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    expires_at: float
    interval: int
    state: str = "pending"  # pending | approved | denied | expired | used
    username: str | None = None
    slow_down_next: bool = False
    polls: int = 0


class KeycloakSim(LoopbackServer):
    def __init__(
        self, *, realm: str = "aiops", client_id: str = "aiops-bot", client_secret: str | None = "sim-secret",
        audience: str = "aiops", access_ttl: int = 300, refresh_ttl: int = 1800, device_ttl: int = 600,
        interval: int = 5, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] = time.time,
        public_clients: tuple[str, ...] = ("aiops-web",),
    ) -> None:
        self.realm, self.client_id, self.client_secret = realm, client_id, client_secret
        self.public_clients = public_clients
        """Clients without a secret (the Web UI / CLI client): device, code and refresh grants only."""
        self.audience = audience
        self.access_ttl, self.refresh_ttl = access_ttl, refresh_ttl
        self.device_ttl, self.interval = device_ttl, interval
        self.clock = clock
        super().__init__(host=host, port=port)
        self.keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.users: dict[str, SimUser] = {}
        self.devices: dict[str, DeviceCode] = {}
        self.refresh_tokens: dict[str, tuple[str, float]] = {}  # token → (username, expires_at)
        self.admin_tokens: set[str] = set()
        self.revoked: list[str] = []
        self.token_delay_s = 0.0
        """Latency of the token endpoint (lets tests overlap concurrent refreshes)."""
        self.requests: list[tuple[str, str]] = []
        self._failures: list[int] = []
        self.login = CodeFlow(self)
        """The browser login (authorization endpoint + code/PKCE grant): `sim.keycloak_login`."""
        self.rotate_keys(keep_old=False)

    # --- lifecycle -------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application()
        app.middlewares.append(self._record)
        base, oidc = f"/realms/{self.realm}", f"/realms/{self.realm}/protocol/openid-connect"
        app.router.add_get(f"{base}/.well-known/openid-configuration", self._discovery)
        app.router.add_get(f"{oidc}/certs", self._certs)
        app.router.add_post(f"{oidc}/token", self._token)
        app.router.add_post(f"{oidc}/auth/device", self._device)
        self.login.routes(app, oidc)
        app.router.add_post(f"{oidc}/revoke", self._revoke)
        app.router.add_get(f"/admin/realms/{self.realm}/users", self._admin_users)
        app.router.add_get(f"/admin/realms/{self.realm}/users/{{id}}/groups", self._admin_groups)
        return app

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{self.realm}"

    # --- test controls ---------------------------------------------------------------------
    def add_user(self, username: str, *, email: str | None = None, namespaces: list[str] | None = None,
                 roles: list[str] | None = None, email_verified: bool = True, enabled: bool = True,
                 attributes: dict[str, list[str]] | None = None, groups: list[JSON] | None = None) -> SimUser:
        attrs = dict(attributes or {})
        if namespaces is not None:
            attrs["aiops_namespaces"] = list(namespaces)
        if roles is not None:
            attrs["aiops_roles"] = list(roles)
        user = SimUser(username, email=email, email_verified=email_verified, enabled=enabled,
                       attributes=attrs, groups=[{"id": str(uuid.uuid4()), "path": f"/{g['name']}", **g}
                                                 for g in groups or []])
        self.users[username] = user
        return user

    def rotate_keys(self, *, keep_old: bool = True) -> str:
        """New signing key (new kid); the old ones stay in the JWKS unless keep_old=False."""
        kid = secrets.token_urlsafe(12)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys = ([*self.keys] if keep_old else []) + [(kid, key)]
        return kid

    @property
    def signing_key(self) -> tuple[str, rsa.RSAPrivateKey]:
        return self.keys[-1]

    def device(self, user_code: str) -> DeviceCode:
        return next(d for d in self.devices.values() if d.user_code == user_code)

    def approve(self, user_code: str, username: str) -> None:
        d = self.device(user_code)
        d.state, d.username = "approved", username

    def deny(self, user_code: str) -> None:
        self.device(user_code).state = "denied"

    def expire(self, user_code: str) -> None:
        self.device(user_code).expires_at = self.clock() - 1

    def slow_down(self, user_code: str) -> None:
        self.device(user_code).slow_down_next = True

    def revoke_refresh_tokens(self) -> None:
        self.refresh_tokens.clear()

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        self._failures += [status] * count

    def access_claims(self, user: SimUser, **extra: Any) -> JSON:
        now = int(self.clock())
        return {"exp": now + self.access_ttl, "iat": now, "auth_time": now, "jti": str(uuid.uuid4()),
                "iss": self.issuer, "aud": [self.audience, "account"], "sub": user.id, "typ": "Bearer",
                "azp": self.client_id, "sid": str(uuid.uuid4()), "scope": "openid profile email",
                "email_verified": user.email_verified, "preferred_username": user.username,
                **({"email": user.email} if user.email else {}),
                "aiops_namespaces": user.claim("aiops_namespaces"), "aiops_roles": user.claim("aiops_roles"),
                # a protocol mapper exposing the user attribute, as AIOPS_LINK_BINDING=attribute needs
                **({"slack_user_id": user.attributes["slack_user_id"][0]}
                   if user.attributes.get("slack_user_id") else {}),
                **extra}

    def mint(self, claims: JSON, *, key: Any = None, alg: str = "RS256", headers: JSON | None = None,
             kid: str | None = None) -> str:
        """Sign arbitrary claims — for forged/malformed token tests. Default: the current key."""
        sign_kid, sign_key = self.signing_key
        hdr = {"kid": kid or sign_kid, "typ": "JWT", **(headers or {})}
        return jwt.encode(claims, sign_key if key is None else key, algorithm=alg, headers=hdr)

    def token_for(self, username: str, **extra: Any) -> str:
        return self.mint(self.access_claims(self.users[username], **extra))

    # --- HTTP ------------------------------------------------------------------------------
    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if self._failures:
            status = self._failures.pop(0)
            return web.Response(status=status, text="<html>Unavailable</html>", content_type="text/html")
        response: web.StreamResponse = await handler(request)
        return response

    @staticmethod
    def _error(status: int, error: str, description: str) -> web.Response:
        return web.json_response({"error": error, "error_description": description}, status=status)

    async def _discovery(self, request: web.Request) -> web.Response:
        oidc = f"{self.issuer}/protocol/openid-connect"
        return web.json_response({
            "issuer": self.issuer, "token_endpoint": f"{oidc}/token", "jwks_uri": f"{oidc}/certs",
            "device_authorization_endpoint": f"{oidc}/auth/device", "authorization_endpoint": f"{oidc}/auth",
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials",
                                      DEVICE_GRANT],
            "id_token_signing_alg_values_supported": ["RS256"],
        })

    def jwks(self) -> JSON:
        keys = []
        for kid, key in self.keys:
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
                         "n": jwk["n"], "e": jwk["e"]})
        return {"keys": keys}

    async def _certs(self, request: web.Request) -> web.Response:
        return web.json_response(self.jwks())

    def _client_ok(self, form: Any) -> bool:
        if form.get("client_id") in self.public_clients:
            return bool(form.get("grant_type") != "client_credentials")  # Keycloak: no service account
        if form.get("client_id") != self.client_id:
            return False
        return self.client_secret is None or form.get("client_secret") == self.client_secret

    async def _device(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not self._client_ok(form):
            return self._error(401, "unauthorized_client", "Invalid client or Invalid client credentials")
        code = DeviceCode(device_code=secrets.token_urlsafe(32),
                          user_code=f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}",
                          expires_at=self.clock() + self.device_ttl, interval=self.interval)
        self.devices[code.device_code] = code
        uri = f"{self.issuer}/device"
        return web.json_response({"device_code": code.device_code, "user_code": code.user_code,
                                  "verification_uri": uri,
                                  "verification_uri_complete": f"{uri}?user_code={code.user_code}",
                                  "expires_in": self.device_ttl, "interval": code.interval})

    def _tokens(self, user: SimUser) -> web.Response:
        refresh = secrets.token_urlsafe(40)
        self.refresh_tokens[refresh] = (user.username, self.clock() + self.refresh_ttl)
        return web.json_response({"access_token": self.mint(self.access_claims(user)),
                                  "expires_in": self.access_ttl, "refresh_expires_in": self.refresh_ttl,
                                  "refresh_token": refresh, "token_type": "Bearer", "not-before-policy": 0,
                                  "session_state": str(uuid.uuid4()), "scope": "openid profile email"})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if self.token_delay_s:
            await asyncio.sleep(self.token_delay_s)
        if not self._client_ok(form):
            return self._error(401, "unauthorized_client", "Invalid client or Invalid client credentials")
        grant = form.get("grant_type")
        if grant == DEVICE_GRANT:
            return self._device_grant(str(form.get("device_code", "")))
        if grant == "authorization_code":
            return self.login.exchange(form)
        if grant == "refresh_token":
            entry = self.refresh_tokens.pop(str(form.get("refresh_token", "")), None)  # rotated on use
            if entry is None or entry[1] < self.clock() or entry[0] not in self.users:
                return self._error(400, "invalid_grant", "Invalid refresh token")
            user = self.users[entry[0]]
            if not user.enabled:
                return self._error(400, "invalid_grant", "User disabled")
            return self._tokens(user)
        if grant == "client_credentials":
            service = SimUser(f"service-account-{self.client_id}", id="service-account-id")
            token = self.mint({**self.access_claims(service), "clientId": self.client_id})
            self.admin_tokens.add(token)
            return web.json_response({"access_token": token, "expires_in": self.access_ttl,
                                      "refresh_expires_in": 0, "token_type": "Bearer",
                                      "not-before-policy": 0, "scope": "profile email"})
        return self._error(400, "unsupported_grant_type", "Unsupported grant_type")

    async def _revoke(self, request: web.Request) -> web.Response:
        """RFC 7009: 200 with an empty body whether or not the token was known."""
        form = await request.post()
        if not self._client_ok(form):
            return self._error(401, "unauthorized_client", "Invalid client or Invalid client credentials")
        self.refresh_tokens.pop(str(form.get("token", "")), None)
        self.revoked.append(str(form.get("token", "")))
        return web.Response(status=200)

    def _device_grant(self, device_code: str) -> web.Response:
        d = self.devices.get(device_code)
        if d is None or d.state == "used":
            return self._error(400, "invalid_grant", "Device code not valid")
        d.polls += 1
        if d.expires_at < self.clock() or d.state == "expired":
            d.state = "expired"
            return self._error(400, "expired_token", "Device code is expired")
        if d.slow_down_next:
            d.slow_down_next = False
            return self._error(400, "slow_down", "Slow down")
        if d.state == "denied":
            return self._error(400, "access_denied", "The end user denied the authorization request")
        if d.state == "pending":
            return self._error(400, "authorization_pending", "The authorization request is still pending")
        d.state = "used"
        return self._tokens(self.users[str(d.username)])

    def _admin_ok(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or token not in self.admin_tokens:
            return False
        return any(self._valid_with(token, key) for _, key in self.keys)

    def _valid_with(self, token: str, key: rsa.RSAPrivateKey) -> bool:
        try:
            jwt.decode(token, key.public_key(), algorithms=["RS256"], audience=self.audience,
                       issuer=self.issuer)
        except jwt.PyJWTError:
            return False
        return True

    async def _admin_users(self, request: web.Request) -> web.Response:
        if not self._admin_ok(request):
            return web.json_response({"error": "HTTP 401 Unauthorized"}, status=401)
        email = request.query.get("email")
        exact = request.query.get("exact") == "true"
        found = []
        for user in self.users.values():
            if email is None:
                found.append(user)
            elif user.email is not None and (
                user.email.lower() == email.lower() if exact else email.lower() in user.email.lower()
            ):
                found.append(user)
        return web.json_response([u.to_admin() for u in found])

    async def _admin_groups(self, request: web.Request) -> web.Response:
        if not self._admin_ok(request):
            return web.json_response({"error": "HTTP 401 Unauthorized"}, status=401)
        user = next((u for u in self.users.values() if u.id == request.match_info["id"]), None)
        if user is None:
            return web.json_response({"error": "User not found"}, status=404)
        brief = request.query.get("briefRepresentation", "true") != "false"
        return web.json_response([{k: v for k, v in g.items() if not (brief and k == "attributes")}
                                  for g in user.groups])
