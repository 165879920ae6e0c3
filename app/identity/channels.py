"""AIOPS_CHANNEL_SCOPES: a YAML mapping of Slack channel id → list of namespaces.

    C0123TEAMA: [team-a]
    C0456SHARED: [team-a, team-b]

A channel listed here limits everyone in it (admins included) to those namespaces; a
channel not listed has no scope of its own. An empty list locks the channel out of all data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from app.identity.claims import is_namespace
from app.identity.yamlfile import load_yaml
from kernel.errors import ConfigError

SETTING = "AIOPS_CHANNEL_SCOPES"
_CHANNEL_RE = re.compile(r"[A-Z0-9]{2,32}")


def parse_channel_scopes(data: object, *, source: str = "file") -> dict[str, frozenset[str]]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(SETTING, f"{source} must map channel ids to lists of namespaces")
    scopes: dict[str, frozenset[str]] = {}
    for channel, namespaces in data.items():
        if not isinstance(channel, str) or _CHANNEL_RE.fullmatch(channel) is None:
            raise ConfigError(SETTING, f"{source}: {channel!r} is not a Slack channel id (like C0123ABCD)")
        if not isinstance(namespaces, list):
            raise ConfigError(SETTING, f"{source}: channel {channel} must have a list of namespaces")
        for ns in namespaces:
            if not is_namespace(ns):
                raise ConfigError(SETTING, f"{source}: channel {channel}: {ns!r} is not a namespace name")
        scopes[channel] = frozenset(namespaces)
    return scopes


def load_channel_scopes(path: Path | None) -> Mapping[str, frozenset[str]]:
    """No file configured → no channel has a scope."""
    if path is None:
        return {}
    return parse_channel_scopes(load_yaml(path, setting=SETTING), source=str(path))
