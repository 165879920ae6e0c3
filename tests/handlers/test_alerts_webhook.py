"""Alertmanager webhook: bearer check (adversarial), payload validation, job identity."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.alerts import AlertmanagerEndpoint, PayloadInvalid, alert_job_id, parse_payload
from kernel.metrics import Metrics

TOKEN = "am-token-5d2c9a"
BASE: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="X"}',
    "status": "firing",
    "commonLabels": {"alertname": "X", "namespace": "shop"},
    "commonAnnotations": {},
    "externalURL": "http://am",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "X", "pod": "a"},
            "annotations": {},
            "startsAt": "2026-01-01T00:00:00Z",
            "fingerprint": "f1",
        },
        {
            "status": "firing",
            "labels": {"alertname": "X", "pod": "b"},
            "annotations": {},
            "startsAt": "2026-01-01T00:00:05Z",
            "fingerprint": "f2",
        },
    ],
}


@pytest.fixture
def endpoint() -> AlertmanagerEndpoint:
    # constructor only: authorization needs neither the queue nor the audit log
    return AlertmanagerEndpoint(
        token=TOKEN,
        queue=None,
        metrics=Metrics(),
        rejections=None,
        incident_channel="C1",  # type: ignore[arg-type]
    )


def test_only_the_exact_bearer_token_is_accepted(endpoint: AlertmanagerEndpoint) -> None:
    assert endpoint.authorized(f"Bearer {TOKEN}")
    assert endpoint.authorized(f"bearer {TOKEN}")
    for bad in (
        None,
        "",
        TOKEN,
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer ",
        f"Bearer {TOKEN.upper()}",
        f"Token {TOKEN}",
    ):
        assert not endpoint.authorized(bad), bad


@given(header=st.text(max_size=60))
def test_random_headers_are_refused(header: str) -> None:
    ep = AlertmanagerEndpoint(
        token=TOKEN,
        queue=None,
        metrics=Metrics(),
        rejections=None,  # type: ignore[arg-type]
        incident_channel="C1",
    )
    if header.strip().lower() != f"bearer {TOKEN}":
        assert not ep.authorized(header)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": "3"}, "version"),
        ({"groupKey": ""}, "groupKey"),
        ({"status": "pending"}, "status"),
        ({"alerts": []}, "alerts"),
        ({"alerts": ["nope"]}, "alerts[0]"),
        ({"commonLabels": {"a": 1}}, "commonLabels"),
        ({"alerts": [{"labels": {"x": ["y"]}}]}, "alerts[0].labels"),
    ],
)
def test_invalid_payloads_say_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadInvalid, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_payload(BASE | change)
    with pytest.raises(PayloadInvalid):
        parse_payload([BASE])


def test_job_id_dedups_resends_but_not_new_firings_or_resolution() -> None:
    first = alert_job_id(parse_payload(BASE))
    reordered = copy.deepcopy(BASE)
    reordered["alerts"].reverse()
    assert alert_job_id(parse_payload(reordered)) == first  # Alertmanager's re-send
    refired = copy.deepcopy(BASE)
    refired["alerts"][0]["startsAt"] = "2026-01-02T00:00:00Z"
    assert alert_job_id(parse_payload(refired)) != first
    assert alert_job_id(parse_payload(BASE | {"status": "resolved"})) != first
    assert alert_job_id(parse_payload(BASE | {"groupKey": "other"})) != first


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), min_size=1, max_size=6))
def test_job_id_depends_only_on_the_set_of_alerts(members: list[tuple[str, str]]) -> None:
    alerts = [{"labels": {}, "fingerprint": f, "startsAt": s} for f, s in members]
    a = alert_job_id(parse_payload(BASE | {"alerts": alerts}))
    b = alert_job_id(parse_payload(BASE | {"alerts": list(reversed(alerts))}))
    assert a == b


def test_payload_is_trimmed_to_what_the_worker_needs() -> None:
    big = copy.deepcopy(BASE)
    big["alerts"] = [dict(BASE["alerts"][0], fingerprint=str(i), extra="x" * 100) for i in range(500)]
    parsed = parse_payload(big)
    assert len(parsed["alerts"]) == 100
    assert "extra" not in parsed["alerts"][0]
