"""ThreadReply against the Slack simulator: streaming, fallback, limits, idempotency, graphs."""

from __future__ import annotations

import uuid

from app.agent.base import AgentAnswer
from app.jobs import Job
from app.slack.render import FEEDBACK_ACTION_ID
from app.slack.reply import ThreadReply
from tools.base import Artifact

AUDIT = uuid.UUID("6f1c1d2e-0000-4000-8000-000000000001")


def make_job(**kw) -> Job:
    return Job(
        job_id=kw.pop("job_id", f"ev-{uuid.uuid4().hex[:8]}"),
        kind="mention",
        channel_id="C1",
        user_id=kw.pop("user_id", "U1"),
        team_id=kw.pop("team_id", "T0SIM"),
        text="why?",
        **kw,
    )


def root(sim) -> str:
    return sim.post_user_message("C1", "U1", "<@U0AIOPS> why?").ts


def bot_msgs(sim, thread_ts):
    return sim.bot_replies("C1", thread_ts)


def markdown_of(msg) -> str:
    return "\n".join(b["text"] for b in msg.blocks if b["type"] == "markdown")


async def test_streamed_answer_arrives_in_order_then_final(slack_sim, slack_client, job_state):
    ts = root(slack_sim)
    job = make_job()
    reply = ThreadReply(client=slack_client, job=job, state=job_state, thread_ts=ts)
    await reply.open()
    assert reply.mode == "stream"
    assert (await job_state.get(job.job_id)).message_ts == reply.message_ts  # recorded before any text
    await reply.set_status("Querying Prometheus…")
    pieces = [f"Line {i}: the payments pod restarted.\n" for i in range(20)]
    for p in pieces:
        await reply.append(p)
    await reply.finish(
        AgentAnswer(text="".join(pieces).strip(), evidence=["sum(rate(x[5m]))"]), audit_id=AUDIT
    )

    msgs = bot_msgs(slack_sim, ts)
    assert len(msgs) == 1
    msg = msgs[0]
    streamed = "".join(c["text"] for c in msg.chunks if c.get("type") == "markdown_text")
    assert streamed == "".join(pieces)  # every piece, in order
    assert len(slack_sim.calls_to("chat.appendStream")) >= 2
    assert markdown_of(msg) == "".join(pieces).strip()
    kinds = [b["type"] for b in msg.blocks]
    assert kinds[-2:] == ["context_actions", "context"] and "context" in kinds[:-2]
    fb = msg.blocks[-2]["elements"][0]
    assert fb["type"] == "feedback_buttons" and fb["action_id"] == FEEDBACK_ACTION_ID
    assert fb["positive_button"]["value"] == f"good:{AUDIT}"
    assert str(AUDIT) in msg.blocks[-1]["elements"][0]["text"]
    assert "sum(rate(x[5m]))" in msg.blocks[-3]["elements"][0]["text"]
    assert slack_sim.status_of("C1", ts) == ""  # status cleared at the end
    assert any(s["status"] == "Querying Prometheus…" for s in slack_sim.statuses)
    assert (await job_state.get(job.job_id)).answered


async def test_fallback_to_throttled_update_when_streaming_unavailable(slack_sim, slack_client, job_state):
    slack_sim.fail_next("chat.startStream", status=200, error="unknown_method")
    ts = root(slack_sim)
    reply = ThreadReply(
        client=slack_client, job=make_job(), state=job_state, thread_ts=ts, update_interval_s=0.0
    )
    await reply.open()
    assert reply.mode == "update"
    await reply.set_status("Reading pod logs…")
    assert "Reading pod logs" in bot_msgs(slack_sim, ts)[0].text
    await reply.append("First part. ")
    await reply.append("Second part.")
    assert bot_msgs(slack_sim, ts)[0].text == "First part. Second part."
    await reply.finish(AgentAnswer(text="First part. Second part."), audit_id=AUDIT)
    msgs = bot_msgs(slack_sim, ts)
    assert len(msgs) == 1 and markdown_of(msgs[0]) == "First part. Second part."


async def test_alert_job_without_user_posts_placeholder(slack_sim, slack_client, job_state):
    ts = root(slack_sim)
    reply = ThreadReply(
        client=slack_client, job=make_job(user_id="alertmanager", team_id=None), state=job_state, thread_ts=ts
    )
    await reply.open()
    assert reply.mode == "update" and not slack_sim.calls_to("chat.startStream")
    await reply.finish(AgentAnswer(text="Triage: disk full."), audit_id=AUDIT)
    assert markdown_of(bot_msgs(slack_sim, ts)[0]) == "Triage: disk full."


async def test_long_answer_is_split_at_slack_limits(slack_sim, slack_client, job_state):
    ts = root(slack_sim)
    reply = ThreadReply(client=slack_client, job=make_job(), state=job_state, thread_ts=ts)
    await reply.open()
    paragraphs = [f"Paragraph {i}: " + "word " * 300 for i in range(25)]  # ~38k chars
    text = (
        "\n\n".join(paragraphs[:12]) + "\n```\n" + "log line\n" * 500 + "```\n" + "\n\n".join(paragraphs[12:])
    )
    await reply.finish(AgentAnswer(text=text), audit_id=AUDIT)
    msgs = bot_msgs(slack_sim, ts)
    assert len(msgs) >= 4
    for m in msgs:
        assert len(markdown_of(m)) <= 12_000 and len(m.blocks) <= 50
        assert markdown_of(m).count("```") % 2 == 0
    # every paragraph shows up once, in order
    joined = "\n".join(markdown_of(m) for m in msgs)
    positions = [joined.index(f"Paragraph {i}:") for i in range(25)]
    assert positions == sorted(positions)
    assert all(b["type"] == "markdown" for m in msgs[:-1] for b in m.blocks)
    assert (
        msgs[-1].blocks[-1]["type"] == "context" and str(AUDIT) in msgs[-1].blocks[-1]["elements"][0]["text"]
    )


async def test_reclaimed_job_updates_the_same_message(slack_sim, slack_client, job_state):
    ts = root(slack_sim)
    job = make_job()
    first = ThreadReply(client=slack_client, job=job, state=job_state, thread_ts=ts)
    await first.open()
    await first.append("partial answer before the worker died\n")
    # the worker dies here; another one reclaims the job
    second = ThreadReply(client=slack_client, job=job, state=job_state, thread_ts=ts)
    await second.open()
    assert second.reclaimed and second.message_ts == first.message_ts
    await second.finish(AgentAnswer(text="The full answer."), audit_id=AUDIT)
    msgs = bot_msgs(slack_sim, ts)
    assert len(msgs) == 1 and markdown_of(msgs[0]) == "The full answer."
    assert len(slack_sim.calls_to("chat.startStream")) == 1


async def test_graphs_are_attached_to_the_thread(slack_sim, slack_client, job_state):
    ts = root(slack_sim)
    reply = ThreadReply(client=slack_client, job=make_job(), state=job_state, thread_ts=ts)
    await reply.open()
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    answer = AgentAnswer(text="See the graph.", artifacts=[Artifact("cpu.png", "CPU by pod", png)])
    await reply.finish(answer, audit_id=AUDIT)
    files = slack_sim.files_in_thread("C1", ts)
    assert [f.name for f in files] == ["cpu.png"] and files[0].content == png


async def test_fail_shows_message_and_audit_ref(slack_sim, slack_client, job_state):
    ts = root(slack_sim)
    reply = ThreadReply(client=slack_client, job=make_job(), state=job_state, thread_ts=ts)
    await reply.open()
    await reply.append("half an answer")
    await reply.fail("Sorry — something broke.", audit_id=AUDIT)
    msg = bot_msgs(slack_sim, ts)[0]
    assert "Sorry — something broke." in markdown_of(msg) and str(AUDIT) in str(msg.blocks)
    assert not msg.streaming


async def test_answer_cannot_ping_the_channel(slack_sim, slack_client, job_state):
    ts = root(slack_sim)
    reply = ThreadReply(client=slack_client, job=make_job(), state=job_state, thread_ts=ts)
    await reply.open()
    await reply.finish(AgentAnswer(text="pod name was <!channel> and <!here|here>"), audit_id=AUDIT)
    md = markdown_of(bot_msgs(slack_sim, ts)[0])
    assert "<!channel>" not in md and "<!here" not in md


async def test_expired_stream_degrades_to_update_and_still_finishes(job_state):
    from slack_sdk.web.async_client import AsyncWebClient

    from sim.slack import SlackSimulator

    async with SlackSimulator(scopes="all", stream_lifetime=0.0) as sim:
        sim.add_user("U1", "alice")
        sim.add_channel("C1")
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        ts = root(sim)
        reply = ThreadReply(
            client=client, job=make_job(), state=job_state, thread_ts=ts, update_interval_s=0.0
        )
        await reply.open()
        assert reply.mode == "stream"
        await reply.append("x" * 200)  # flushes → Slack says the stream is gone
        assert reply.mode == "update"
        await reply.append(" more")
        await reply.finish(AgentAnswer(text="Complete answer."), audit_id=AUDIT)
        msgs = bot_msgs(sim, ts)
        assert len(msgs) == 1 and markdown_of(msgs[0]) == "Complete answer."


class DiesAfter:
    """A job-state store whose worker "dies" (raises) on the first update carrying `field`:
    Slack already has the message, the job state never learns its ts."""

    def __init__(self, inner, field: str) -> None:
        self._inner, self._field, self.died = inner, field, False

    async def get(self, job_id):
        return await self._inner.get(job_id)

    async def update(self, job_id, **changes):
        if self._field in changes and not self.died:
            self.died = True
            raise ConnectionError("worker killed")
        await self._inner.update(job_id, **changes)


async def test_crash_between_placeholder_post_and_its_record_does_not_post_twice(
    slack_sim, slack_client, job_state
):
    ts = root(slack_sim)
    job = make_job(user_id="alertmanager", team_id=None)  # no stream: the placeholder path
    dying = DiesAfter(job_state, "message_ts")
    first = ThreadReply(client=slack_client, job=job, state=dying, thread_ts=ts)
    try:
        await first.open()
    except ConnectionError:
        pass
    assert dying.died and len(bot_msgs(slack_sim, ts)) == 1  # the placeholder is in Slack
    second = ThreadReply(client=slack_client, job=job, state=job_state, thread_ts=ts)
    await second.open()
    await second.finish(AgentAnswer(text="Disk full on node-3."), audit_id=AUDIT)
    msgs = bot_msgs(slack_sim, ts)
    assert len(msgs) == 1 and markdown_of(msgs[0]) == "Disk full on node-3."
    assert len(slack_sim.calls_to("chat.postMessage")) == 1


async def test_crash_while_posting_a_long_answer_never_duplicates_a_part(slack_sim, slack_client, job_state):
    ts = root(slack_sim)
    job = make_job()
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 300 for i in range(25))  # several messages
    dying = DiesAfter(job_state, "parts")
    first = ThreadReply(client=slack_client, job=job, state=dying, thread_ts=ts)
    await first.open()
    try:
        await first.finish(AgentAnswer(text=text), audit_id=AUDIT)
    except ConnectionError:
        pass
    assert dying.died
    second = ThreadReply(client=slack_client, job=job, state=job_state, thread_ts=ts)
    await second.open()
    assert second.reclaimed
    await second.finish(AgentAnswer(text=text), audit_id=AUDIT)
    msgs = bot_msgs(slack_sim, ts)
    joined = "\n".join(markdown_of(m) for m in msgs)
    assert [joined.count(f"Paragraph {i}:") for i in range(25)] == [1] * 25  # each once, none lost
    assert joined.index("Paragraph 0:") < joined.index("Paragraph 24:")
    assert str(AUDIT) in visible_text(msgs[-1])
    # a third delivery (e.g. the ack was lost) rewrites the same messages, posts nothing new
    posts = len(slack_sim.calls_to("chat.postMessage"))
    third = ThreadReply(client=slack_client, job=job, state=job_state, thread_ts=ts)
    await third.open()
    await third.finish(AgentAnswer(text=text), audit_id=AUDIT)
    assert len(slack_sim.calls_to("chat.postMessage")) == posts
    assert len(bot_msgs(slack_sim, ts)) == len(msgs)


async def test_graphs_are_uploaded_once_across_a_reclaim(slack_sim, slack_client, job_state):
    ts = root(slack_sim)
    job = make_job()
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    answer = AgentAnswer(text="See the graph.", artifacts=[Artifact("cpu.png", "CPU by pod", png)])
    for _ in range(2):  # the second delivery finds the job already attached its graph
        reply = ThreadReply(client=slack_client, job=job, state=job_state, thread_ts=ts)
        await reply.open()
        await reply.finish(answer, audit_id=AUDIT)
    assert [f.name for f in slack_sim.files_in_thread("C1", ts)] == ["cpu.png"]


def visible_text(msg) -> str:
    from sim.slack.render import message_body

    return message_body(msg)
