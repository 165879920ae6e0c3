"""The answer of an API question travels from the worker to the API process through Redis, in
order, ending at the first terminal event — with its graphs — and a reader that waits too long
gets a TimeoutError instead of hanging."""

from __future__ import annotations

import base64

import pytest

from app.agent.base import AgentAnswer
from app.api_answers import ApiReply, answer_events
from app.jobs import Job
from tools.base import Artifact

PNG = b"\x89PNG\r\n\x1a\n" + b"graph-bytes"


def api_job() -> Job:
    return Job(job_id="api-1", kind="api", channel_id="api:sub", user_id="sub", text="q?", event_ts="c1")


async def test_events_arrive_in_order_with_graphs_and_stop_at_final(redis_client, redis_prefix) -> None:
    job = api_job()
    reply = ApiReply(redis=redis_client, prefix=redis_prefix, job=job)
    await reply.open()
    await reply.set_status("Querying Prometheus…")
    await reply.append("part one, ")
    await reply.append("part two")
    answer = AgentAnswer(
        text="part one, part two",
        evidence=["rate(x[5m])"],
        artifacts=[Artifact("p99.png", "p99 latency", PNG), Artifact("x.csv", "t", b"a", "text/csv")],
    )
    await reply.finish(answer, audit_id=job.audit_id)
    await reply.fail("late failure of a reclaimed copy", audit_id=job.audit_id)  # after the terminal one
    events = [e async for e in answer_events(redis_client, redis_prefix, job.job_id, timeout_s=5)]
    assert [e["type"] for e in events] == ["status", "status", "delta", "delta", "final"]
    final = events[-1]
    assert final["audit_id"] == str(job.audit_id) and final["evidence"] == ["rate(x[5m])"]
    assert [(g["title"], base64.b64decode(g["data"])) for g in final["graphs"]] == [("p99 latency", PNG)]
    assert 0 < await redis_client.ttl(f"{redis_prefix}:api:answer:{job.job_id}") <= 3600


async def test_a_reader_without_an_answer_times_out(redis_client, redis_prefix) -> None:
    with pytest.raises(TimeoutError):
        async for _ in answer_events(redis_client, redis_prefix, "api-never", timeout_s=0.3):
            pass
