"""Alertmanager webhook v4 → one thread per alert group in the incident channel; resolved
updates that thread instead of opening a new one."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from app import messages
from app.jobs import Job
from handlers.alerts import ALERT_USER
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

    roots = await harness.slack.wait_for(lambda: harness.slack.root_messages(INCIDENT_CHANNEL), timeout=15)
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
    roots = await harness.slack.wait_for(lambda: harness.slack.root_messages(INCIDENT_CHANNEL), timeout=15)
    await harness.wait_answer(INCIDENT_CHANNEL, roots[0].ts)
    again = copy.deepcopy(FIRING)
    again["alerts"][0]["startsAt"] = "2026-11-26T11:00:00Z"
    _status, body = await harness.post_alert(again)
    assert body["status"] == "queued"

    def two_triages() -> bool:
        return (
            sum(AUDIT_REF in visible(m) for m in harness.slack.bot_replies(INCIDENT_CHANNEL, roots[0].ts))
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
            and sum(AUDIT_REF in visible(m) for m in h.slack.bot_replies(INCIDENT_CHANNEL, roots[0].ts)) == 3
        )

    await h.slack.wait_for(three_triages, timeout=30)
    assert len(h.slack.root_messages(INCIDENT_CHANNEL)) == 1


async def test_a_resolve_redelivered_after_a_crash_posts_nothing_twice(harness: Harness) -> None:
    """The worker died after Slack took the resolve reply and the postmortem but before the job
    state recorded them: the redelivered job finds both messages by their tags and rewrites them."""
    await harness.post_alert(FIRING)
    roots = await harness.slack.wait_for(lambda: harness.slack.root_messages(INCIDENT_CHANNEL), timeout=15)
    root = roots[0].ts
    await harness.wait_answer(INCIDENT_CHANNEL, root)
    payload = resolved()
    _status, body = await harness.post_alert(payload)

    def posted(start: str) -> list[object]:
        return [m for m in harness.slack.bot_replies(INCIDENT_CHANNEL, root) if m.text.startswith(start)]

    pm, done = "*Postmortem:", ":white_check_mark: Resolved"
    await harness.slack.wait_for(lambda: posted(pm), timeout=20)
    await harness.slack.wait_for(lambda: posted(done), timeout=5)
    # what the job state holds when the worker dies right after each chat.postMessage
    await harness.redis.hdel(
        f"{harness.prefix}:jobstate:{body['job_id']}", "message_ts", "postmortem_ts", "answered"
    )
    job = Job(job_id=body["job_id"], kind="alert", channel_id=INCIDENT_CHANNEL, user_id=ALERT_USER,
              text=messages.alert_text(payload), alert=payload)  # fmt: skip
    updates = len(harness.slack.calls_to("chat.update"))
    assert await harness.runtime.queue.enqueue(job, dedup_key=f"redelivery-{job.job_id}")
    rewritten = lambda: len(harness.slack.calls_to("chat.update")) >= updates + 2  # noqa: E731
    await harness.slack.wait_for(rewritten, timeout=20)
    assert len(posted(pm)) == 1 and len(posted(done)) == 1
    assert (await harness.wait_audit_row(str(job.audit_id)))["event_type"] == "query"
