"""The API's `final` event carries the checked findings as data, next to the text."""

from __future__ import annotations

import json

from app.agent.base import AgentAnswer
from app.agent.evidence import CallRecord
from app.agent.findings import check
from app.api_answers import ApiReply, answer_events
from app.jobs import Job
from tools import sanitize


async def test_final_event_has_the_checked_findings(redis_client, redis_prefix) -> None:
    job = Job(job_id="api-f1", kind="api", channel_id="api:sub", user_id="sub", text="q?", event_ts="c1")
    calls = [CallRecord(1, "prometheus_query", {"query": "up"}, sanitize.wrap("prometheus_query", {"v": 1}),
                        query_sent='up{namespace="shop"}')]
    report = check({"findings": [{"claim": "up is 1", "evidence": [1], "confidence": "high"},
                                 {"claim": "made up", "evidence": [2]}]}, calls, may_recommend=True)
    reply = ApiReply(redis=redis_client, prefix=redis_prefix, job=job)
    await reply.finish(AgentAnswer(text="t", findings=report, body="t"), audit_id=job.audit_id)
    [final] = [e async for e in answer_events(redis_client, redis_prefix, job.job_id, timeout_s=5)]
    findings = final["findings"]
    json.dumps(findings)  # plain data
    assert [f["claim"] for f in findings["findings"]] == ["up is 1"] and findings["unverified"] == ["made up"]
    assert findings["findings"][0]["evidence"][0]["query"] == 'up{namespace="shop"}'
