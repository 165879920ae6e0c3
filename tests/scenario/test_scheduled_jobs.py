"""Scheduled digests (`/aiops jobs`): admins only, only in channels with a listed scope, audited;
a due schedule fires exactly once however many workers poll, and its digest runs under a service
identity bounded by the channel's scope — never a person's."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.jobs import Job
from app.schedules.commands import JobsCommand
from app.schedules.runner import Scheduler
from app.schedules.store import ScheduleStore
from tests.scenario.conftest import (
    ALICE,
    CHANNEL,
    VERA,
    Harness,
    HarnessFactory,
    audit_ref,
)

UNLISTED = "C0UNLISTED"


@pytest.fixture
async def harness3(make_harness: HarnessFactory, tmp_path: Path) -> Harness:
    scopes = tmp_path / "channels.yaml"
    scopes.write_text(json.dumps({CHANNEL: ["checkout"]}))
    return await make_harness(workers=3, env={"AIOPS_CHANNEL_SCOPES": str(scopes)})


def command(user: str, text: str, channel: str = CHANNEL) -> Job:
    return Job(
        job_id=f"t-{asyncio.get_running_loop().time()}",
        kind="command",
        channel_id=channel,
        user_id=user,
        text=text,
        command="jobs",
    )


def jobs(h: Harness) -> JobsCommand:
    rt = h.runtime
    return JobsCommand(identity=rt.identity, pool=rt.stores.pg, queue=rt.queue, audit=rt.audit)


async def test_only_admins_in_listed_channels_and_every_change_is_audited(harness3: Harness) -> None:
    cmd = jobs(harness3)
    harness3.slack.add_channel(UNLISTED)  # it exists in Slack (conversations.info: not Slack Connect)
    assert "Only admins" in await cmd(command(VERA, "jobs add morning 0 9 * * mon-fri Europe/Berlin"))
    assert "listed namespace scope" in await cmd(command(ALICE, "jobs add m 0 9 * * * UTC", UNLISTED))
    assert "not valid" in await cmd(command(ALICE, "jobs add m 0 25 * * * UTC"))
    added = await cmd(command(ALICE, "jobs add morning 0 9 * * mon-fri Europe/Berlin"))
    assert added.startswith("Added `morning`") and "Next run" in added
    assert "already exists" in await cmd(command(ALICE, "jobs add morning 0 9 * * * UTC"))
    listed = await cmd(command(ALICE, "jobs list"))
    assert "`morning`" in listed and "Europe/Berlin" in listed
    assert (await cmd(command(ALICE, "jobs delete morning"))) == "Deleted `morning`."
    rows = await harness3.audit_rows("admin", user_id="kc-alice")
    assert [r["user_message"] for r in rows] == [
        "jobs add morning '0 9 * * mon-fri' Europe/Berlin",
        "jobs delete morning",
    ]


async def test_a_due_schedule_fires_once_with_three_workers_and_sees_only_the_channel_scope(
    harness3: Harness,
) -> None:
    rt = harness3.runtime
    store = ScheduleStore(pool=rt.stores.pg)
    s = await store.add(
        name="digest", channel_id=CHANNEL, cron="0 3 1 1 *", timezone="UTC", created_by="kc-alice"
    )
    due = datetime.now(UTC) - timedelta(seconds=1)
    await rt.stores.pg.execute("UPDATE schedules SET next_run_at = $2 WHERE id = $1", s.id, due)
    schedulers = [Scheduler(store=ScheduleStore(pool=rt.stores.pg), queue=rt.queue) for _ in range(3)]
    # three more pollers racing the three workers' own schedulers, several times over
    fired = [n for _ in range(3) for n in await asyncio.gather(*(x.tick() for x in schedulers))]
    assert sum(fired) <= 1  # the workers' schedulers may have claimed it first
    roots = await harness3.slack.wait_for(
        lambda: [
            m for m in harness3.slack.root_messages(CHANNEL) if "Scheduled digest 'digest'" in (m.text or "")
        ],
        timeout=30,
    )
    answer = await harness3.wait_answer(CHANNEL, roots[0].ts)
    row = await harness3.wait_audit_row(audit_ref(answer))
    assert row["user_id"] == "system:scheduler"
    seen = json.dumps(harness3.anthropic.requests[-1])
    assert "checkout" in seen and "payments" not in seen  # alice's other namespace never enters
    for x in schedulers:
        assert await x.tick() == 0  # claimed once; the next firing is months away
    assert (
        len([m for m in harness3.slack.root_messages(CHANNEL) if "Scheduled digest" in (m.text or "")]) == 1
    )
    (after,) = await store.list(CHANNEL)
    assert after.next_run_at > datetime.now(UTC) and after.last_run_at is not None


async def test_the_slash_commands_reach_their_handlers_privately(harness3: Harness) -> None:
    """`/aiops jobs …`, `/aiops remember …` and `/aiops memory` over signed HTTP: answered only to the
    asker (no thread, nothing for the model), with the refusal that fits the asker's role."""
    for text, expected in (
        ("jobs list", "Only admins"),
        ("remember checkout is fine", "Only analysts and admins"),
        ("memory", "eam notes"),  # "No team notes…" or "Team notes here" (one database per session)
    ):
        before = len(harness3.slack.ephemerals(CHANNEL, VERA))
        sent = await harness3.sender.command(VERA, CHANNEL, text)
        assert sent.status == 200
        replies = await harness3.slack.wait_for(
            lambda b=before: harness3.slack.ephemerals(CHANNEL, VERA)[b:] or None, timeout=15
        )
        assert expected in replies[0].text, (text, replies[0].text)
    assert harness3.slack.root_messages(CHANNEL) == [] and harness3.anthropic.requests == []
