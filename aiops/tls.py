"""TLS both ways.

Serving: when the secrets directory holds `tls.crt` and `tls.key` (a kubelet-mounted
kubernetes.io/tls Secret, or a Vault template), the webhook, metrics and API ports serve HTTPS
with them; otherwise plain HTTP (for a service mesh that terminates mTLS in a sidecar). The
pair is loaded into a fresh context when the files change, so a renewed certificate is served
to new connections without a restart.

Outgoing: `AIOPS_CA_BUNDLE` names one CA file that every client (Slack, Anthropic, Keycloak,
Prometheus, Qdrant, PostgreSQL, Redis) verifies servers against; unset → the system store.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import requests
import requests.auth

from app.config import Settings
from kernel.errors import ConfigError

CERT_FILE = "tls.crt"
KEY_FILE = "tls.key"


def client_ssl_context(ca_bundle: Path | None) -> ssl.SSLContext | None:
    """A verifying context trusting AIOPS_CA_BUNDLE; None = each library's default store."""
    if ca_bundle is None:
        return None
    try:
        return ssl.create_default_context(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError("AIOPS_CA_BUNDLE", f"cannot load {ca_bundle} ({type(exc).__name__})") from None


def server_ssl_context(secrets_dir: Path) -> ssl.SSLContext | None:
    """HTTPS for our listening ports when tls.crt + tls.key are present; one without the other
    is a configuration error (fail closed rather than silently serve plain HTTP)."""
    cert, key = secrets_dir / CERT_FILE, secrets_dir / KEY_FILE
    if not cert.exists() and not key.exists():
        return None
    if not (cert.exists() and key.exists()):
        missing = KEY_FILE if cert.exists() else CERT_FILE
        raise ConfigError(f"secret {missing}", f"{CERT_FILE} and {KEY_FILE} must be present together")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"secret {CERT_FILE}", f"cannot load the key pair ({type(exc).__name__})") from None
    return ctx


def llm_tls(settings: Settings, provider: str) -> dict[str, Any]:
    """Extra SDK client options: its httpx client verifies against AIOPS_CA_BUNDLE."""
    ctx = client_ssl_context(settings.ca_bundle)
    if ctx is None:
        return {}
    if provider == "openai":
        from openai import DefaultAsyncHttpxClient as OpenAIHttpx

        return {"http_client": OpenAIHttpx(verify=ctx)}
    from anthropic import DefaultAsyncHttpxClient

    return {"http_client": DefaultAsyncHttpxClient(verify=ctx)}


class _FileAuth(requests.auth.AuthBase):
    """Prometheus credentials read from the secret files on every request (rotation without a
    restart): `prometheus_token` → Bearer, else `prometheus_username` + `prometheus_password`
    → Basic. The values live only in the request's header, never in this object's repr."""

    def __init__(self, secrets_dir: Path) -> None:
        self._dir = secrets_dir

    def _read(self, name: str) -> str | None:
        try:
            return (self._dir / name).read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError):
            return None

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._read("prometheus_token")
        if token:
            r.headers["Authorization"] = f"Bearer {token}"
            return r
        user, password = self._read("prometheus_username"), self._read("prometheus_password")
        if user and password:
            return requests.auth.HTTPBasicAuth(user, password)(r)
        return r

    def __repr__(self) -> str:
        return "PrometheusFileAuth()"


def prometheus_session(settings: Settings) -> requests.Session:
    session = requests.Session()
    session.auth = _FileAuth(settings.secrets_dir)
    if settings.ca_bundle is not None:
        session.verify = str(settings.ca_bundle)
    return session
