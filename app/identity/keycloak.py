"""The bot's HTTP edge to Keycloak (aiohttp, async): discovery paths, JWKS, token endpoint,
device authorization and the Admin API user search.

Errors: `IdpUnavailable` when Keycloak can't be reached or answers nonsense (network, 5xx,
non-JSON); `OidcError(error)` for an OAuth error body such as
`{"error": "authorization_pending", "error_description": "…"}`. Neither message ever holds a
token or the client secret.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from pydantic import SecretStr

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class IdpUnavailable(Exception):
    """Keycloak could not be reached or gave an unusable answer."""


class OidcError(Exception):
    """An OAuth 2.0 error response (`error` is the code, e.g. `invalid_grant`)."""

    def __init__(self, error: str, status: int) -> None:
        self.error = error
        self.status = status
        super().__init__(f"keycloak answered {status} {error}")


class KeycloakClient:
    def __init__(
        self,
        *,
        base_url: str,
        realm: str,
        client_id: str,
        client_secret: SecretStr | None,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.realm = realm
        self.client_id = client_id
        self._secret = client_secret
        self._session = session
        self._own_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clock = clock
        self._admin_token: tuple[str, float] | None = None
        self._admin_lock = asyncio.Lock()

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{self.realm}"

    @property
    def _oidc(self) -> str:
        return f"{self.issuer}/protocol/openid-connect"

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def aclose(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _client_auth(self) -> dict[str, str]:
        form = {"client_id": self.client_id}
        if self._secret is not None:
            form["client_secret"] = self._secret.get_secret_value()
        return form

    async def _request(
        self, method: str, url: str, *, data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None, bearer: str | None = None, empty_ok: bool = False,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        try:
            async with self._http().request(
                method, url, data=data, params=params, headers=headers, timeout=self._timeout
            ) as resp:
                status = resp.status
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise IdpUnavailable(f"keycloak unreachable ({type(exc).__name__})") from None
        if empty_ok and status < 300:
            return body
        if status >= 500 or body is None:
            raise IdpUnavailable(f"keycloak answered {status}")
        if status >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            raise OidcError(str(error or f"http_{status}"), status)
        return body

    async def jwks(self) -> dict[str, Any]:
        body = await self._request("GET", f"{self._oidc}/certs")
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise IdpUnavailable("keycloak JWKS has no key list")
        return body

    async def device_authorization(self) -> dict[str, Any]:
        form = {**self._client_auth(), "scope": "openid"}
        body = await self._request("POST", f"{self._oidc}/auth/device", data=form)
        if not isinstance(body, dict):
            raise IdpUnavailable("keycloak device authorization answer is not an object")
        return body

    async def token(self, grant: Mapping[str, str]) -> dict[str, Any]:
        """POST /token with the client's credentials added; OidcError for an error body."""
        body = await self._request("POST", f"{self._oidc}/token", data={**self._client_auth(), **grant})
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise IdpUnavailable("keycloak token answer has no access_token")
        return body

    async def revoke_refresh_token(self, refresh_token: str) -> None:
        """RFC 7009 revocation at Keycloak (ends that client session); errors are the caller's."""
        form = {**self._client_auth(), "token": refresh_token, "token_type_hint": "refresh_token"}
        await self._request("POST", f"{self._oidc}/revoke", data=form, empty_ok=True)

    async def _admin_bearer(self) -> str:
        """The bot's own client-credentials token, reused until 30 s before it expires."""
        async with self._admin_lock:
            now = self._clock()
            if self._admin_token is not None and self._admin_token[1] > now:
                return self._admin_token[0]
            body = await self.token({"grant_type": "client_credentials"})
            lifetime = body.get("expires_in")
            ttl = float(lifetime) if isinstance(lifetime, int | float) else 60.0
            self._admin_token = (body["access_token"], now + max(0.0, ttl - 30.0))
            return self._admin_token[0]

    async def admin_get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET {base}/admin/realms/{realm}/{path} with the bot's token (one retry on 401)."""
        url = f"{self.base_url}/admin/realms/{self.realm}/{path.lstrip('/')}"
        for attempt in (1, 2):
            try:
                return await self._request("GET", url, params=params, bearer=await self._admin_bearer())
            except OidcError as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                self._admin_token = None  # revoked/rotated: fetch a fresh one once
        raise AssertionError("unreachable")
