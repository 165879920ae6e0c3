"""`POST /alerts/alertmanager`: Alertmanager webhook v4 → one job on the queue.

Bearer token compared in constant time (401 + audited refusal otherwise); the body must be
webhook v4 JSON (400 with a message naming the problem). The job id is
groupKey + status + a hash of the alerts' fingerprints/startsAt, so Alertmanager's periodic
re-sends of the same notification dedup, while a new firing (or the resolution) does not.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from app import messages
from app.alert_guard import AlertGuard
from app.jobs import Job
from app.queue import JobQueue
from handlers import json_guard
from handlers.slack import RejectionRecorder
from kernel.audit import canonical_hash, sha256_hex
from kernel.metrics import Metrics

log = logging.getLogger(__name__)

ALERT_USER = "alertmanager"
MAX_ALERTS = 100
_KEEP = ("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint")


class PayloadInvalid(ValueError):
    """The body is not an Alertmanager v4 webhook; `str()` says why."""


def _str_map(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PayloadInvalid(f"{what} must be an object of strings")
    return value


def parse_payload(data: Any) -> dict[str, Any]:
    """Validate a webhook v4 body and keep only what the worker needs."""
    if not isinstance(data, dict):
        raise PayloadInvalid("body must be a JSON object")
    if str(data.get("version")) != "4":
        raise PayloadInvalid('unsupported webhook version (expected "4")')
    group_key = data.get("groupKey")
    if not isinstance(group_key, str) or not group_key:
        raise PayloadInvalid("groupKey must be a non-empty string")
    status = data.get("status")
    if status not in ("firing", "resolved"):
        raise PayloadInvalid('status must be "firing" or "resolved"')
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadInvalid("alerts must be a non-empty list")
    kept: list[dict[str, Any]] = []
    for i, alert in enumerate(alerts[:MAX_ALERTS]):
        if not isinstance(alert, dict):
            raise PayloadInvalid(f"alerts[{i}] must be an object")
        item = {k: alert[k] for k in _KEEP if k in alert}
        item["labels"] = _str_map(alert.get("labels"), f"alerts[{i}].labels")
        item["annotations"] = _str_map(alert.get("annotations"), f"alerts[{i}].annotations")
        kept.append(item)
    url = data.get("externalURL")
    return {
        "version": "4",
        "groupKey": group_key,
        "status": status,
        "receiver": str(data.get("receiver", "")),
        "alerts": kept,
        "commonLabels": _str_map(data.get("commonLabels"), "commonLabels"),
        "commonAnnotations": _str_map(data.get("commonAnnotations"), "commonAnnotations"),
        "groupLabels": _str_map(data.get("groupLabels"), "groupLabels"),
        "externalURL": url if isinstance(url, str) else "",
    }


def alert_job_id(payload: dict[str, Any]) -> str:
    members = sorted(
        (str(a.get("fingerprint") or canonical_hash(a.get("labels", {}))), str(a.get("startsAt", "")))
        for a in payload["alerts"]
    )
    return f"alert:{sha256_hex(payload['groupKey'])[:24]}:{payload['status']}:{canonical_hash(members)[:24]}"


class AlertmanagerEndpoint:
    def __init__(
        self,
        *,
        token: str,
        queue: JobQueue,
        metrics: Metrics,
        rejections: RejectionRecorder,
        incident_channel: str | None,
        guard: AlertGuard | None = None,
    ) -> None:
        self._token = token.encode()
        self._queue = queue
        self._metrics = metrics
        self._rejections = rejections
        self._channel = incident_channel
        self._guard = guard

    def authorized(self, header: str | None) -> bool:
        """True only for `Bearer <alertmanager_token>` (constant-time comparison)."""
        scheme, _, presented = (header or "").partition(" ")
        # compare_digest on bytes: constant time even for non-ASCII input
        ok = hmac.compare_digest(presented.strip().encode("utf-8", "replace"), self._token)
        return scheme.lower() == "bearer" and ok

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorized(request.headers.get("Authorization")):
            await self._rejections.record("bad_bearer_token", request.remote)
            return web.json_response({"error": messages.ALERT_UNAUTHORIZED}, status=401)
        if self._channel is None:
            return web.json_response({"error": messages.ALERT_NO_CHANNEL}, status=503)
        try:
            data = json_guard.loads(await request.read())
        except json_guard.JsonRefused as exc:
            return web.json_response({"error": str(exc)}, status=400)
        try:
            payload = parse_payload(data)
        except PayloadInvalid as exc:
            return web.json_response({"error": f"not an Alertmanager v4 webhook: {exc}"}, status=400)
        job_id = alert_job_id(payload)  # from the values as sent: Alertmanager's re-sends dedup
        if self._guard is not None:
            try:
                payload = await self._guard.clean(payload, ip=request.remote)
            except Exception as exc:  # security row or blocklist not written: let Alertmanager retry
                log.error("alert guard failed (%s)", type(exc).__name__)
                return web.json_response({"error": messages.ALERT_STORE_DOWN}, status=503)
        job = Job(
            job_id=job_id,
            kind="alert",
            channel_id=self._channel,
            user_id=ALERT_USER,
            text=messages.alert_text(payload),
            alert=payload,
            ip_address=request.remote,
        )
        if await self._queue.enqueue(job):
            self._metrics.events_received.labels("alertmanager").inc()
            return web.json_response({"status": "queued", "job_id": job.job_id})
        self._metrics.events_duplicate.labels("alertmanager").inc()
        return web.json_response({"status": "duplicate", "job_id": job.job_id})
