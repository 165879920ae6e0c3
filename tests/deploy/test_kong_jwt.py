"""The Kong overlay's JWT consumer is rendered from the realm's live key: the PEM it writes verifies a
token Keycloak (the simulator) signed, the issuer is the token's `iss`, and the config still matches
Kong's declarative schema. The shipped file keeps a placeholder Kong refuses (fail closed)."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import jsonschema
import jwt
import yaml

from sim.keycloak import KeycloakSim
from tests.deploy._schemas import KONG_DECLARATIVE

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "overlays" / "kong" / "kong.yml"


async def test_rendered_consumer_key_verifies_the_realms_tokens(tmp_path: Path) -> None:
    config = tmp_path / "kong.yml"
    shutil.copy(SHIPPED, config)
    async with KeycloakSim() as kc:
        kc.add_user("ana", namespaces=["shop"], roles=["analyst"])
        token = kc.token_for("ana")
        # a real process; the simulator keeps serving on this event loop while it runs
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "scripts" / "render-kong-jwt"), "--keycloak-url", kc.base_url,
            "--realm", kc.realm, "--config", str(config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    rendered = yaml.safe_load(config.read_text())
    jsonschema.validate(rendered, KONG_DECLARATIVE)
    (secret,) = rendered["consumers"][0]["jwt_secrets"]
    assert secret["key"] == kc.issuer and secret["algorithm"] == "RS256"
    claims = jwt.decode(token, secret["rsa_public_key"], algorithms=["RS256"], audience=kc.audience)
    assert claims["iss"] == secret["key"]  # Kong matches the credential on `iss`


def test_the_shipped_config_holds_a_placeholder_kong_refuses() -> None:
    (secret,) = yaml.safe_load(SHIPPED.read_text())["consumers"][0]["jwt_secrets"]
    assert "REPLACE-WITH-THE-REALM-PUBLIC-KEY" in secret["rsa_public_key"]
