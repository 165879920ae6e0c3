# ruff: noqa: F811  (harness fixtures are imported from tests/scenario/conftest.py)
"""Start-up configuration: a missing/invalid setting or secret stops `aiops` with one line that
names it (exit 2, no traceback, never the secret's value); secret values never reach a log line."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scenario.conftest import (  # noqa: F401  (fixtures)
    ALICE,
    CHANNEL,
    Harness,
    HarnessFactory,
    anthropic_sim,
    harness,
    make_harness,
    scenario_env,
    secret_values,
    slack_sim,
)

REPO = Path(__file__).resolve().parents[2]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiops.cli", *args],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_config_line(result: subprocess.CompletedProcess[str], setting: str) -> str:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"aiops: configuration error: {setting}: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def test_missing_secret_file_is_one_clear_line_and_exit_2(
    scenario_env: dict[str, str], secret_values: dict[str, str]
) -> None:
    (Path(scenario_env["AIOPS_SECRETS_DIR"]) / "slack_signing_secret").unlink()
    result = run_cli(scenario_env, "serve", "--no-workers")
    line = assert_one_config_line(result, "secret slack_signing_secret")
    assert "slack_signing_secret" in line
    for value in secret_values.values():
        assert value not in result.stderr and value not in result.stdout


def test_empty_secret_file_is_refused_too(scenario_env: dict[str, str]) -> None:
    (Path(scenario_env["AIOPS_SECRETS_DIR"]) / "alertmanager_token").write_text("  \n")
    assert_one_config_line(run_cli(scenario_env, "serve"), "secret alertmanager_token")  # the receiver


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AIOPS_HTTP_PORT", "not-a-port"),
        ("AIOPS_HTTP_PORT", "70000"),
        ("SLACK_API_URL", "ftp://x"),
        ("AIOPS_IDENTITY_MODE", "magic"),
    ],
)
def test_invalid_setting_names_the_variable(scenario_env: dict[str, str], name: str, value: str) -> None:
    assert_one_config_line(run_cli(scenario_env | {name: value}, "serve"), name)


def test_static_identities_outside_dev_are_refused(scenario_env: dict[str, str]) -> None:
    assert_one_config_line(run_cli(scenario_env | {"AIOPS_ENV": "prod"}, "serve"), "AIOPS_IDENTITY_MODE")


def test_secrets_are_never_read_from_the_environment(scenario_env: dict[str, str]) -> None:
    (Path(scenario_env["AIOPS_SECRETS_DIR"]) / "slack_bot_token").unlink()
    env = scenario_env | {"SLACK_BOT_TOKEN": "xoxb-from-env", "slack_bot_token": "xoxb-from-env"}
    assert_one_config_line(run_cli(env, "serve"), "secret slack_bot_token")


def test_migrate_is_idempotent(scenario_env: dict[str, str]) -> None:
    first = run_cli(scenario_env, "migrate")
    assert first.returncode == 0, first.stderr
    assert "up to date" in first.stdout  # the session database is already migrated


async def test_no_secret_value_appears_in_any_log_line(
    make_harness: HarnessFactory, secret_values: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h: Harness = await make_harness(workers=0)
    # a full round through a real worker process: Slack 429 + Anthropic 500 (both retried),
    # an answer; plus a forged Slack request and a wrong Alertmanager token on the ack path
    h.slack.fail_next("chat.update", status=429, retry_after=1)
    h.anthropic.fail_next(500)
    worker = h.spawn_cli("--log-level", "DEBUG", "worker", "--claim-idle-ms", "1000")
    try:
        sent = await h.sender.mention(ALICE, CHANNEL, "status of checkout?")
        await h.wait_answer(CHANNEL, sent.payload["event"]["ts"], timeout=40)  # type: ignore[index]
        await h.sender.mention(ALICE, CHANNEL, "forged", forge=True)
        await h.post_alert({"version": "4"}, token="wrong")
    finally:
        worker.terminate()
        _out, err = worker.communicate(timeout=30)
    logged = [caplog.text, err.decode()]
    for rec in caplog.records:
        logged.append(rec.getMessage())
        logged.append(str(rec.args))
    blob = "\n".join(logged)
    assert "worker started" in blob, err.decode()[-3000:]  # the subprocess really logged
    for name, value in secret_values.items():
        assert value not in blob, f"secret {name} leaked into logs"


def test_default_model_is_one_the_sdk_does_not_call_deprecated() -> None:
    # The SDK ships Anthropic's deprecation list; a default past end-of-life would break every
    # installation that does not set AIOPS_MODEL.
    from anthropic._data import DEPRECATED_MODELS

    from app.config import DEFAULT_MODEL, load_settings

    assert load_settings({"KEYCLOAK_URL": "https://sso.example"}).model == DEFAULT_MODEL
    assert DEFAULT_MODEL not in DEPRECATED_MODELS


def test_embeddings_settings_and_their_optional_key_file(tmp_path: Path) -> None:
    from aiops.cli import secret_values
    from app.config import REQUIRED_SECRETS, load_secrets, load_settings
    from kernel.errors import ConfigError

    base = {"KEYCLOAK_URL": "https://sso.example"}
    plain = load_settings(base)
    assert plain.embeddings_url is None and plain.embeddings_model == "text-embedding-3-small"
    s = load_settings(
        base | {"AIOPS_EMBEDDINGS_URL": "http://127.0.0.1:8080/v1/", "AIOPS_EMBEDDINGS_MODEL": "bge-small"}
    )
    assert s.embeddings_url == "http://127.0.0.1:8080/v1" and s.embeddings_model == "bge-small"
    with pytest.raises(ConfigError, match=r"^AIOPS_EMBEDDINGS_URL: "):
        load_settings(base | {"AIOPS_EMBEDDINGS_URL": "127.0.0.1:8080"})
    for name in REQUIRED_SECRETS:
        (tmp_path / name).write_text("x")
    assert load_secrets(tmp_path).embeddings_api_key is None  # optional: a keyless local server
    (tmp_path / "embeddings_api_key").write_text("sk-embed-key\n")
    secrets = load_secrets(tmp_path)
    assert secrets.embeddings_api_key is not None
    assert secrets.embeddings_api_key.get_secret_value() == "sk-embed-key"
    assert "sk-embed-key" in secret_values(secrets)  # so the log filter masks it too
