"""Claim typing (fail closed), the channel-scope file, and per-mode configuration errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from app.config import Secrets, load_settings
from app.identity.channels import load_channel_scopes
from app.identity.claims import ClaimsInvalid, identity_from_claims, is_namespace
from app.identity.factory import build_identity_service
from kernel.errors import ConfigError
from kernel.metrics import Metrics

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@given(json_values)
def test_namespaces_claim_must_be_a_list_of_namespace_names(value: Any) -> None:
    claims = {"sub": "s", "preferred_username": "u", "aiops_namespaces": value, "aiops_roles": ["viewer"]}
    good = value is None or (isinstance(value, list) and all(is_namespace(v) for v in value))
    if good:
        assert identity_from_claims(claims, slack_user_id="U1").namespaces == frozenset(value or [])
    else:
        with pytest.raises(ClaimsInvalid):
            identity_from_claims(claims, slack_user_id="U1")


@given(st.text(max_size=70))
def test_only_kubernetes_names_are_namespaces(value: str) -> None:
    claims = {"sub": "s", "aiops_namespaces": [value], "aiops_roles": ["viewer"]}
    try:
        ident = identity_from_claims(claims, slack_user_id="U1")
    except ClaimsInvalid:
        return
    (ns,) = ident.namespaces
    # nothing that could act as a regex, a label-matcher breakout or a path segment
    assert ns.isascii() and len(ns) <= 63 and all(c.islower() or c.isdigit() or c == "-" for c in ns)


def test_roles_claim_as_string_is_refused() -> None:
    with pytest.raises(ClaimsInvalid):
        identity_from_claims({"sub": "s", "aiops_roles": "admin"}, slack_user_id="U1")
    with pytest.raises(ClaimsInvalid):
        identity_from_claims({"sub": "", "aiops_roles": ["admin"]}, slack_user_id="U1")


def test_channel_scopes_file(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("C0TEAMA: [team-a]\nC0BOTH: [team-a, team-b]\nC0LOCK: []\n")
    assert load_channel_scopes(path) == {
        "C0TEAMA": {"team-a"},
        "C0BOTH": {"team-a", "team-b"},
        "C0LOCK": set(),
    }
    assert load_channel_scopes(None) == {}


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("- C0TEAMA", "must map channel ids"),
        ("'#team-a': [team-a]", "is not a Slack channel id"),
        ("C0TEAMA: team-a", "must have a list"),
        ("C0TEAMA: ['team_a']", "is not a namespace name"),
        ("C0TEAMA: [team-a", "not valid YAML at line"),
    ],
)
def test_channel_scopes_errors_are_one_clear_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_channel_scopes(path)
    assert info.value.setting == "AIOPS_CHANNEL_SCOPES" and fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_channel_scopes_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_channel_scopes(tmp_path / "nope.yaml")
    assert "cannot read" in str(info.value)


class _NullAudit:
    async def write(self, event: Any) -> Any:
        return event.id


def _secrets(**extra: Any) -> Secrets:
    return Secrets(
        slack_bot_token=SecretStr("x"),
        slack_signing_secret=SecretStr("x"),
        alertmanager_token=SecretStr("x"),
        **extra,
    )


def test_factory_refuses_incomplete_modes(tmp_path: Path) -> None:
    base = {"KEYCLOAK_URL": "http://127.0.0.1:1"}
    cases = [
        ({"AIOPS_IDENTITY_MODE": "device"}, _secrets(), "secret link_encryption_key"),
        (
            {"AIOPS_IDENTITY_MODE": "device"},
            _secrets(link_encryption_key=SecretStr("short")),
            "secret link_encryption_key",
        ),
        (
            {"AIOPS_IDENTITY_MODE": "device"},
            _secrets(link_encryption_key=SecretStr("x" * 32)),
            "DATABASE_URL",
        ),
        ({"AIOPS_IDENTITY_MODE": "directory"}, _secrets(), "secret keycloak_client_secret"),
    ]
    for env, secrets, setting in cases:
        settings = load_settings({**base, **env})
        with pytest.raises(ConfigError) as info:
            build_identity_service(settings, secrets, audit=_NullAudit(), metrics=Metrics())
        assert info.value.setting == setting
        assert "x" * 32 not in str(info.value)


def test_factory_builds_static_in_dev(tmp_path: Path) -> None:
    ids = tmp_path / "ids.yaml"
    ids.write_text("- {slack_user_id: U1, sub: s1, aiops_roles: [viewer], aiops_namespaces: [team-a]}\n")
    settings = load_settings(
        {"AIOPS_IDENTITY_MODE": "static", "AIOPS_ENV": "dev", "AIOPS_STATIC_IDENTITIES": str(ids)}
    )
    service = build_identity_service(settings, _secrets(), audit=_NullAudit(), metrics=Metrics())
    assert service.mode == "static"
