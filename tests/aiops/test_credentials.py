"""Credentials only as files: a password in a URL setting is refused (and never echoed); each
command needs only its own secrets (`migrate`, `retention run` without any Slack secret); with
tls.crt/tls.key present the webhook and metrics ports speak HTTPS only."""

from __future__ import annotations

import datetime
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import load_settings
from app.store_auth import StoreCredentials, postgres_options, redis_connection
from kernel.errors import ConfigError
from tests.fixtures.proc import get, pod_env, running

REPO = Path(__file__).resolve().parents[2]
BASE = {"AIOPS_IDENTITY_MODE": "static", "AIOPS_ENV": "dev", "AIOPS_STATIC_IDENTITIES": "/x.yaml"}


@settings(max_examples=50, deadline=None)
@given(password=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                               exclude_characters="@/:?#[]%"), min_size=6, max_size=30),
       which=st.sampled_from([("DATABASE_URL", "postgresql://app:{p}@db:5432/aiops"),
                              ("REDIS_URL", "rediss://default:{p}@redis:6380/0"),
                              ("PROMETHEUS_URL", "https://u:{p}@prom:9090"),
                              ("DATABASE_URL", "postgresql://app@db/aiops?sslmode=verify-full&password={p}")]))
def test_a_password_in_a_url_setting_is_refused_without_echoing_it(
    password: str, which: tuple[str, str]
) -> None:
    name, template = which
    with pytest.raises(ConfigError) as err:
        load_settings(BASE | {name: template.format(p=password)})
    assert err.value.setting == name
    assert password not in str(err.value) and password not in repr(err.value)


def test_password_files_feed_the_store_clients_without_a_url_or_repr(tmp_path: Path) -> None:
    (tmp_path / "postgres_password").write_text("pg-Secret-1\n")
    (tmp_path / "redis_password").write_text("redis-Secret-1\n")
    creds = StoreCredentials(tmp_path)
    options = postgres_options("postgresql://aiops_app@db:5432/aiops", creds)
    assert options["password"]() == "pg-Secret-1"
    (tmp_path / "postgres_password").write_text("pg-Secret-2\n")  # rotated: next connection
    assert options["password"]() == "pg-Secret-2"
    url, redis_options = redis_connection("redis://worker@redis:6379/0", creds)
    assert url == "redis://redis:6379/0"
    provider = redis_options["credential_provider"]
    assert provider.get_credentials() == ("worker", "redis-Secret-1")
    for shown in (repr(creds), repr(provider), repr(options), url):
        assert "Secret" not in shown


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aiops.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_migrate_and_retention_need_no_slack_secret(tmp_path: Path, pg_dsn: str, redis_prefix: str) -> None:
    env = pod_env(tmp_path, database_url=pg_dsn, prefix=redis_prefix)
    for name in ("slack_bot_token", "slack_signing_secret", "alertmanager_token"):
        (Path(env["AIOPS_SECRETS_DIR"]) / name).unlink()
    migrate = _run(env, "migrate")
    assert migrate.returncode == 0, migrate.stderr
    retention = _run(env, "retention", "run", "--dry-run")
    assert retention.returncode == 0, retention.stderr
    serve = _run(env, "serve")  # the receiver still refuses to start without them
    assert serve.returncode == 2 and "secret slack_bot_token" in serve.stderr


def _self_signed(directory: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address(
                "127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    (directory / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return directory / "tls.crt"


def test_tls_files_make_both_ports_https(tmp_path: Path, pg_dsn: str, redis_prefix: str) -> None:
    env = pod_env(tmp_path, database_url=pg_dsn, prefix=redis_prefix)
    ca = ssl.create_default_context(cafile=str(_self_signed(Path(env["AIOPS_SECRETS_DIR"]))))
    public = f"https://127.0.0.1:{env['AIOPS_HTTP_PORT']}"
    metrics = f"https://127.0.0.1:{env['AIOPS_METRICS_PORT']}"
    with running(["serve", "--no-workers"], env, ready_url=public + "/healthz", ctx=ca):
        assert get(public + "/healthz", ctx=ca)[0] == 200
        assert get(metrics + "/metrics", ctx=ca)[0] == 200
        with pytest.raises(OSError):  # plain HTTP is not served
            get(f"http://127.0.0.1:{env['AIOPS_HTTP_PORT']}/healthz")
