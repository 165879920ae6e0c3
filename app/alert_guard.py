"""Alertmanager payloads pass the same guards as tool data before anything else sees them.

Labels and annotations are written by whoever can create a PrometheusRule or push an alert,
so they are untrusted exactly like a metric label: every string (keys included) goes through
`tools.sanitize.clean` — secret redaction, injection detection (the value is withheld), the
256-character cap — and an injection writes one `security` audit row (user
`system:alertmanager`, reason `prompt_injection`, never the content) and puts the offending
values on the shared blocklist, so a tool result carrying the same label is withheld too.

Links: `externalURL` is kept only when its host is the configured Alertmanager
(`AIOPS_ALERTMANAGER_EXTERNAL_URL`), each `generatorURL` only when its host is the configured
Prometheus (`AIOPS_PROMETHEUS_EXTERNAL_URL`); nothing configured → no links at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from kernel.audit import AuditEvent, AuditSink, canonical_hash
from kernel.metrics import Metrics
from tools import sanitize
from tools.blocklist import Blocklist

log = logging.getLogger(__name__)

SYSTEM_USER = "system:alertmanager"
_UNTOUCHED = frozenset({"groupKey", "externalURL", "alerts"})
"""groupKey is only hashed (thread mapping); URLs are checked against the allowed hosts."""


def _origin(url: str | None) -> tuple[str, str, int | None] | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    return parts.scheme, parts.hostname.lower(), port


def allowed_url(url: Any, allowed: str | None) -> str | None:
    """`url` when it is an http(s) URL on the same scheme, host and port as `allowed`."""
    if not isinstance(url, str) or allowed is None:
        return None
    mine = _origin(url)
    return url if mine is not None and mine == _origin(allowed) else None


class AlertGuard:
    def __init__(
        self,
        *,
        audit: AuditSink,
        blocklist: Blocklist,
        metrics: Metrics,
        alertmanager_url: str | None = None,
        prometheus_url: str | None = None,
    ) -> None:
        self._audit = audit
        self._blocklist = blocklist
        self._metrics = metrics
        self._am_url = alertmanager_url
        self._prom_url = prometheus_url

    async def clean(self, payload: dict[str, Any], *, ip: str | None = None) -> dict[str, Any]:
        """The payload with every label/annotation sanitized and foreign links dropped."""
        found: list[str] = []
        kinds: set[str] = set()
        out = {k: (v if k in _UNTOUCHED else self._clean(v, found, kinds)) for k, v in payload.items()}
        out["externalURL"] = allowed_url(payload.get("externalURL"), self._am_url) or ""
        alerts = []
        for alert in payload.get("alerts") or []:
            item = {k: (v if k == "generatorURL" else self._clean(v, found, kinds)) for k, v in alert.items()}
            if "generatorURL" in alert:
                item["generatorURL"] = allowed_url(alert["generatorURL"], self._prom_url) or ""
            alerts.append(item)
        out["alerts"] = alerts
        if found:
            await self._report(found, kinds, out, ip)
        return out

    @staticmethod
    def _clean(value: Any, found: list[str], kinds: set[str]) -> Any:
        cleaned, report = sanitize.clean(value, long_text_fields=frozenset())
        found.extend(report.injections)
        kinds.update(report.kinds)
        return cleaned

    async def _report(
        self, values: Iterable[str], kinds: set[str], payload: dict[str, Any], ip: str | None
    ) -> None:
        values = list(values)
        self._metrics.injection_detections.labels("alertmanager").inc(len(values))
        namespace = (payload.get("commonLabels") or {}).get("namespace")
        if not isinstance(namespace, str) or namespace == sanitize.MARKER_INJECTION:
            namespace = None
        try:
            await self._blocklist.block(values)
        except Exception as exc:  # the values are withheld from this alert regardless
            log.error("alert guard: could not update the blocklist (%s)", type(exc).__name__)
        await self._audit.write(
            AuditEvent(
                event_type="security",
                user_id=SYSTEM_USER,
                namespace=namespace
                if isinstance(namespace, str) and namespace != sanitize.MARKER_INJECTION
                else None,
                ip_address=ip,
                failure_reason="prompt_injection",
                tool_calls=[
                    {
                        "source": "alertmanager",
                        "patterns": sorted(kinds),
                        "inputs_hash": canonical_hash(values),
                    }
                ],
            )
        )
