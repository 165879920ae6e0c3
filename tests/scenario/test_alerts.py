"""Alertmanager webhook v4 → one thread per alert group in the incident channel; resolved
updates that thread instead of opening a new one."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from tests.scenario.alerts_data import FIRING
from tests.scenario.conftest import AUDIT_REF, INCIDENT_CHANNEL, Harness, HarnessFactory, visible


def resolved() -> dict[str, Any]:
    p = copy.deepcopy(FIRING)
    p["status"] = "resolved"
    p["alerts"][0]["status"] = "resolved"
    p["alerts"][0]["endsAt"] = "2026-11-26T10:20:00Z"
    return p


async def test_firing_opens_a_thread_and_resolved_updates_it(harness: Harness) -> None:
    status, body = await harness.post_alert(FIRING)
    assert status == 200 and body["status"] == "queued"
    # Alertmanager re-sends the same notification: deduplicated
    status, body = await harness.post_alert(FIRING)
    assert status == 200 and body["status"] == "duplicate"

    roots = await harness.slack.wait_for(
        lambda: harness.slack.root_messages(INCIDENT_CHANNEL), timeout=15
    )
    root = roots[0]
    assert "FIRING" in root.text and "CheckoutErrors" in root.text and "checkout" in root.text
    triage = await harness.wait_answer(INCIDENT_CHANNEL, root.ts)
    assert "CheckoutErrors" in visible(triage)  # the model was asked about the alert

    status, body = await harness.post_alert(resolved())
    assert status == 200 and body["status"] == "queued"

    def resolved_reply() -> object:
        return next(
            (
                m
                for m in harness.slack.bot_replies(INCIDENT_CHANNEL, root.ts)
                if "Resolved" in visible(m) and AUDIT_REF in visible(m)
            ),
            None,
        )

    await harness.slack.wait_for(resolved_reply, timeout=15)
    assert len(harness.slack.root_messages(INCIDENT_CHANNEL)) == 1
    updated = harness.slack.message(INCIDENT_CHANNEL, root.ts)
    assert updated is not None and "RESOLVED" in updated.text
    assert len(harness.anthropic.requests) == 1  # no triage for a resolution


async def test_a_new_firing_of_the_same_group_reuses_the_thread(harness: Harness) -> None:
    await harness.post_alert(FIRING)
    roots = await harness.slack.wait_for(
        lambda: harness.slack.root_messages(INCIDENT_CHANNEL), timeout=15
    )
    await harness.wait_answer(INCIDENT_CHANNEL, roots[0].ts)
    again = copy.deepcopy(FIRING)
    again["alerts"][0]["startsAt"] = "2026-11-26T11:00:00Z"
    _status, body = await harness.post_alert(again)
    assert body["status"] == "queued"

    def two_triages() -> bool:
        return (
            sum(
                AUDIT_REF in visible(m) for m in harness.slack.bot_replies(INCIDENT_CHANNEL, roots[0].ts)
            )
            == 2
        )

    await harness.slack.wait_for(two_triages, timeout=15)
    assert len(harness.slack.root_messages(INCIDENT_CHANNEL)) == 1


async def test_wrong_bearer_is_refused_and_audited(harness: Harness) -> None:
    status, _body = await harness.post_alert(FIRING, token="not-the-token")
    assert status == 401
    status, _ = await harness.post_alert(FIRING, token="")
    assert status == 401
    rows = await harness.audit_rows("auth_failure", failure_reason="bad_bearer_token")
    assert len(rows) == 2
    assert await harness.redis.xlen(f"{harness.prefix}:jobs") == 0


async def test_malformed_bodies_get_400_with_a_reason(harness: Harness) -> None:
    status, body = await harness.post_alert({}, raw=b"{not json")
    assert status == 400 and "JSON" in body["error"]
    wrong_version = dict(FIRING, version="3")
    status, body = await harness.post_alert(wrong_version)
    assert status == 400 and "version" in body["error"]
    no_alerts = dict(FIRING, alerts=[])
    status, body = await harness.post_alert(no_alerts)
    assert status == 400 and "alerts" in body["error"]
    assert await harness.redis.xlen(f"{harness.prefix}:jobs") == 0


async def test_concurrent_notifications_of_one_group_share_one_thread(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(workers=2)
    variants = []
    for hour in range(3):
        p = copy.deepcopy(FIRING)
        p["alerts"][0]["startsAt"] = f"2026-11-26T1{hour}:00:00Z"
        variants.append(p)
    results = await asyncio.gather(*(h.post_alert(p) for p in variants))
    assert [body["status"] for _, body in results] == ["queued"] * 3

    def three_triages() -> bool:
        roots = h.slack.root_messages(INCIDENT_CHANNEL)
        return (
            bool(roots)
            and sum(AUDIT_REF in visible(m) for m in h.slack.bot_replies(INCIDENT_CHANNEL, roots[0].ts))
            == 3
        )

    await h.slack.wait_for(three_triages, timeout=30)
    assert len(h.slack.root_messages(INCIDENT_CHANNEL)) == 1
