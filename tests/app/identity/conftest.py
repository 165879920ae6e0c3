"""Fixtures for the identity tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from app.identity.keycloak import KeycloakClient
from kernel.metrics import Metrics
from sim.keycloak import KeycloakSim


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def kc() -> AsyncIterator[KeycloakSim]:
    async with KeycloakSim() as sim:
        yield sim


@pytest.fixture
async def kc_client(kc: KeycloakSim) -> AsyncIterator[KeycloakClient]:
    client = KeycloakClient(
        base_url=kc.base_url,
        realm=kc.realm,
        client_id=kc.client_id,
        client_secret=SecretStr(kc.client_secret or ""),
    )
    yield client
    await client.aclose()
