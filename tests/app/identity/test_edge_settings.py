"""Issue 11 settings fail closed by default and name themselves when invalid."""

from __future__ import annotations

import pytest

from app.config import load_settings
from kernel.errors import ConfigError

BASE = {"AIOPS_IDENTITY_MODE": "static", "AIOPS_ENV": "dev", "AIOPS_STATIC_IDENTITIES": "/x.yaml"}


def test_defaults_fail_closed() -> None:
    s = load_settings(BASE)
    assert s.channel_default == "deny" and s.link_binding == "email" and s.link_max_slack_users == 1
    assert s.alertmanager_external_url is None and s.prometheus_external_url is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AIOPS_CHANNEL_DEFAULT", "allow"),
        ("AIOPS_LINK_BINDING", "name"),
        ("AIOPS_LINK_MAX_SLACK_USERS", "0"),
        ("AIOPS_ALERTMANAGER_EXTERNAL_URL", "javascript:alert(1)"),
    ],
)
def test_invalid_values_name_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(BASE | {name: value})
    assert name in str(info.value)
