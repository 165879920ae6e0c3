"""`static` mode: identities from a YAML file — for the demo and tests, never production.

    - slack_user_id: U0VIEWER
      sub: 5d1c…            # Keycloak subject (written to audit rows)
      preferred_username: vera
      aiops_namespaces: [team-a]
      aiops_roles: [viewer]

The values go through the same claim checks as a verified token.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from app.identity import messages
from app.identity.claims import ClaimsInvalid, identity_from_claims
from app.identity.yamlfile import load_yaml
from kernel.errors import AuthFailure, ConfigError
from kernel.scope import Identity

SETTING = "AIOPS_STATIC_IDENTITIES"


def parse_static_identities(data: object, *, source: str = "file") -> dict[str, Identity]:
    if not isinstance(data, list):
        raise ConfigError(SETTING, f"{source} must be a list of identities")
    identities: dict[str, Identity] = {}
    for i, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise ConfigError(SETTING, f"{source}: entry {i} is not a mapping")
        slack_user_id = entry.get("slack_user_id")
        if not isinstance(slack_user_id, str) or not slack_user_id:
            raise ConfigError(SETTING, f"{source}: entry {i} needs a slack_user_id")
        if slack_user_id in identities:
            raise ConfigError(SETTING, f"{source}: slack_user_id {slack_user_id} appears twice")
        try:
            identities[slack_user_id] = identity_from_claims(entry, slack_user_id=slack_user_id)
        except ClaimsInvalid as exc:
            raise ConfigError(SETTING, f"{source}: entry {i} ({slack_user_id}): {exc}") from None
    return identities


class StaticProvider:
    mode = "static"

    def __init__(self, *, identities: Mapping[str, Identity], env: str) -> None:
        if env != "dev":
            raise ConfigError("AIOPS_IDENTITY_MODE", "'static' is only allowed with AIOPS_ENV=dev")
        self._identities = dict(identities)

    @classmethod
    def from_file(cls, path: Path, *, env: str) -> StaticProvider:
        if env != "dev":  # refuse before even reading the file
            raise ConfigError("AIOPS_IDENTITY_MODE", "'static' is only allowed with AIOPS_ENV=dev")
        return cls(identities=parse_static_identities(load_yaml(path, setting=SETTING), source=str(path)),
                   env=env)

    async def identify(self, slack_user_id: str) -> Identity:
        identity = self._identities.get(slack_user_id)
        if identity is None:
            text = messages.UNKNOWN_USER_STATIC.format(slack_user_id=slack_user_id)
            raise AuthFailure("unknown_user", text)
        return identity

    async def aclose(self) -> None:
        return None
