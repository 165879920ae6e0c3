"""The Keycloak simulator speaks Keycloak's wire format: paths, JSON bodies, OAuth error codes
and statuses, and RS256 tokens in Keycloak's claim layout verifiable from its JWKS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest

from sim.keycloak import DEVICE_GRANT, KeycloakSim


@pytest.fixture
async def kc() -> AsyncIterator[KeycloakSim]:
    async with KeycloakSim() as sim:
        sim.add_user("vera", email="vera@example.com", namespaces=["team-a"], roles=["viewer"])
        yield sim


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, form: dict[str, str]) -> tuple[int, Any]:
    async with http.post(url, data=form) as resp:
        return resp.status, await resp.json()


def client(kc: KeycloakSim) -> dict[str, str]:
    return {"client_id": kc.client_id, "client_secret": kc.client_secret or ""}


async def test_discovery_and_jwks(kc: KeycloakSim, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{kc.issuer}/.well-known/openid-configuration") as resp:
        conf = await resp.json()
    assert conf["issuer"] == kc.issuer
    assert conf["jwks_uri"] == f"{kc.issuer}/protocol/openid-connect/certs"
    assert conf["device_authorization_endpoint"].endswith("/protocol/openid-connect/auth/device")
    async with http.get(conf["jwks_uri"]) as resp:
        keys = (await resp.json())["keys"]
    assert len(keys) == 1 and set(keys[0]) == {"kid", "kty", "alg", "use", "n", "e"}
    old_kid = keys[0]["kid"]
    new_kid = kc.rotate_keys()
    async with http.get(conf["jwks_uri"]) as resp:
        assert [k["kid"] for k in (await resp.json())["keys"]] == [old_kid, new_kid]


async def test_device_flow_wire_format(kc: KeycloakSim, http: aiohttp.ClientSession) -> None:
    oidc = f"{kc.issuer}/protocol/openid-connect"
    status, dev = await post(http, f"{oidc}/auth/device", {**client(kc), "scope": "openid"})
    assert status == 200
    assert set(dev) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    poll = {**client(kc), "grant_type": DEVICE_GRANT, "device_code": dev["device_code"]}
    status, body = await post(http, f"{oidc}/token", poll)
    assert (status, body["error"]) == (400, "authorization_pending") and body["error_description"]
    kc.slow_down(dev["user_code"])
    assert (await post(http, f"{oidc}/token", poll))[1]["error"] == "slow_down"
    kc.approve(dev["user_code"], "vera")
    status, tokens = await post(http, f"{oidc}/token", poll)
    assert status == 200 and tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "RS256" and header["kid"] == kc.signing_key[0]
    claims = jwt.decode(
        tokens["access_token"],
        kc.signing_key[1].public_key(),
        algorithms=["RS256"],
        audience=kc.audience,
        issuer=kc.issuer,
    )
    assert claims["azp"] == kc.client_id and claims["typ"] == "Bearer"
    assert claims["preferred_username"] == "vera" and claims["aiops_namespaces"] == ["team-a"]
    assert claims["aiops_roles"] == ["viewer"] and claims["sub"] == kc.users["vera"].id
    # a device code is single-use
    assert (await post(http, f"{oidc}/token", poll))[1]["error"] == "invalid_grant"
    # refresh rotates the refresh token
    refresh = {**client(kc), "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    status, again = await post(http, f"{oidc}/token", refresh)
    assert status == 200 and again["refresh_token"] != tokens["refresh_token"]
    status, body = await post(http, f"{oidc}/token", refresh)
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_device_denied_expired_and_bad_client(kc: KeycloakSim, http: aiohttp.ClientSession) -> None:
    oidc = f"{kc.issuer}/protocol/openid-connect"
    for action, error in (("deny", "access_denied"), ("expire", "expired_token")):
        _, dev = await post(http, f"{oidc}/auth/device", client(kc))
        getattr(kc, action)(dev["user_code"])
        status, body = await post(
            http,
            f"{oidc}/token",
            {**client(kc), "grant_type": DEVICE_GRANT, "device_code": dev["device_code"]},
        )
        assert (status, body["error"]) == (400, error)
    status, body = await post(
        http,
        f"{oidc}/token",
        {"client_id": kc.client_id, "client_secret": "wrong", "grant_type": "client_credentials"},
    )
    assert (status, body["error"]) == (401, "unauthorized_client")


async def test_admin_search_with_client_credentials(kc: KeycloakSim, http: aiohttp.ClientSession) -> None:
    _, tok = await post(
        http, f"{kc.issuer}/protocol/openid-connect/token", {**client(kc), "grant_type": "client_credentials"}
    )
    url = f"{kc.base_url}/admin/realms/{kc.realm}/users"
    headers = {"Authorization": f"Bearer {tok['access_token']}"}
    async with http.get(url, params={"email": "VERA@example.com", "exact": "true"}, headers=headers) as resp:
        users = await resp.json()
    assert [u["username"] for u in users] == ["vera"]
    assert users[0]["attributes"]["aiops_namespaces"] == ["team-a"] and users[0]["emailVerified"] is True
    async with http.get(url, params={"email": "vera@example", "exact": "true"}, headers=headers) as resp:
        assert await resp.json() == []


async def test_failure_injection(kc: KeycloakSim, http: aiohttp.ClientSession) -> None:
    kc.fail_next(1, status=503)
    async with http.get(f"{kc.issuer}/protocol/openid-connect/certs") as resp:
        assert resp.status == 503
    async with http.get(f"{kc.issuer}/protocol/openid-connect/certs") as resp:
        assert resp.status == 200
