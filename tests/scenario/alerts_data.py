"""An Alertmanager webhook v4 notification, shared by the alert scenario tests."""

from __future__ import annotations

from typing import Any

FIRING: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="CheckoutErrors"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "aiops",
    "groupLabels": {"alertname": "CheckoutErrors"},
    "commonLabels": {"alertname": "CheckoutErrors", "namespace": "checkout", "severity": "page"},
    "commonAnnotations": {"summary": "checkout 5xx ratio above 5%"},
    "externalURL": "http://alertmanager.example:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "CheckoutErrors", "namespace": "checkout", "pod": "checkout-7d9f"},
            "annotations": {"summary": "checkout 5xx ratio above 5%"},
            "startsAt": "2026-11-26T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example/graph",
            "fingerprint": "a1b2c3d4e5f60718",
        }
    ],
}
