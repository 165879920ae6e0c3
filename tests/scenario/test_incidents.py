"""Incidents over the running app (issue 15 items 3-5), with scripted model transcripts on both
providers: a resolved alert thread gets its postmortem (posted, and as Markdown on request), is
found again for a new alert in the same namespace — "this looks like <link> on <date>, fixed by …"
— and never for someone who cannot see that namespace; a catch-up shows its reader only the turns
their scope covers."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sim.anthropic import SimReply
from sim.openai import OpenAISim
from tests.scenario.alerts_data import FIRING
from tests.scenario.conftest import (
    ALICE,
    CHANNEL,
    DM_ALICE,
    INCIDENT_CHANNEL,
    VERA,
    Harness,
    HarnessFactory,
    visible,
)

DM_VERA = "D0VERA"
TRIAGE = (
    "The payments-api pods were OOMKilled after the 14:00 deploy. "
    "Memory use climbed to the 256Mi limit within minutes. "
    "It is still unclear why the new version allocates more."
)


def alert(name: str, ns: str, *, status: str = "firing", group: str = "1") -> dict[str, Any]:
    p = copy.deepcopy(FIRING)
    p["groupKey"] = f'{{}}:{{alertname="{name}",g="{group}"}}'
    p["status"] = status
    p["groupLabels"] = {"alertname": name}
    p["commonLabels"] = {"alertname": name, "namespace": ns, "severity": "page"}
    p["commonAnnotations"] = {"summary": f"{name} in {ns}"}
    first = p["alerts"][0]
    first["startsAt"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    first.update(status=status, labels={"alertname": name, "namespace": ns, "pod": f"{ns}-api-1"})
    first["fingerprint"] = f"{name}{group}{status}"
    if status == "resolved":  # just now: inside the 90-day retention whatever the date
        first["endsAt"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return p


class Model:
    """The provider under test: its simulator's script and the requests it received."""

    def __init__(self, name: str, sim: Any) -> None:
        self.name, self.sim = name, sim

    def script(self, *texts: str) -> None:
        self.sim.script([SimReply(text=t) for t in texts])

    def last_request(self) -> str:
        return json.dumps(self.sim.requests[-1]["messages"])


Start = Callable[..., Awaitable[tuple[Harness, Model]]]


@pytest.fixture(params=["anthropic", "openai"])
async def start(
    request: pytest.FixtureRequest, make_harness: HarnessFactory, scenario_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Start]:
    async with OpenAISim() as openai_sim:

        async def go(**env: str) -> tuple[Harness, Model]:
            extra = dict(env)
            if request.param == "openai":
                (Path(scenario_env["AIOPS_SECRETS_DIR"]) / "openai_api_key").write_text(openai_sim.api_key)
                extra |= {"AIOPS_LLM_PROVIDER": "openai", "OPENAI_BASE_URL": openai_sim.v1_url}
            h = await make_harness(env=extra)
            return h, Model(request.param, openai_sim if request.param == "openai" else h.anthropic)

        yield go


async def fire(h: Harness, payload: dict[str, Any]) -> tuple[str, str]:
    """Post the alert; the thread's root ts and the triage answer's text as posted."""
    before = {m.ts for m in h.slack.root_messages(INCIDENT_CHANNEL)}
    status, _ = await h.post_alert(payload)
    assert status == 200
    roots = await h.slack.wait_for(
        lambda: [m for m in h.slack.root_messages(INCIDENT_CHANNEL) if m.ts not in before], timeout=15
    )
    answer = await h.wait_answer(INCIDENT_CHANNEL, roots[0].ts)
    return roots[0].ts, answer.text


async def follow_up(h: Harness, user: str, channel: str, thread: str, text: str) -> str:
    sent = await h.sender.mention(user, channel, text, thread_ts=thread)
    ts = sent.payload["event"]["ts"]  # type: ignore[index]

    def answered() -> Any:
        replies = [m for m in h.slack.bot_replies(channel, thread) if float(m.ts) > float(ts)]
        return next((m for m in replies if "audit ref" in visible(m)), None)

    return visible(await h.slack.wait_for(answered, timeout=20))


async def ephemeral(h: Harness, user: str, channel: str, text: str, *, thread: str) -> str:
    """`@aiops <text>` in a thread: the private reply only `user` sees there."""
    before = len(h.slack.ephemerals(channel, user))
    await h.sender.mention(user, channel, text, thread_ts=thread)
    got = await h.slack.wait_for(lambda: h.slack.ephemerals(channel, user)[before:], timeout=15)
    return visible(got[0])


async def slash(h: Harness, user: str, channel: str, text: str) -> str:
    before = len(h.slack.responses)
    await h.sender.command(user, channel, text)
    got = await h.slack.wait_for(lambda: h.slack.responses[before:], timeout=15)
    return str(got[0]["body"]["text"])


async def test_postmortem_on_resolve_and_the_incident_found_again_only_in_scope(start: Start) -> None:
    h, model = await start()
    model.script(TRIAGE, "Good: the error rate is back to normal since the rollback.")
    root, _ = await fire(h, alert("PaymentsOOM", "payments"))
    await follow_up(h, ALICE, INCIDENT_CHANNEL, root, "I rolled back payments-api to v41, that fixed it")

    await h.post_alert(alert("PaymentsOOM", "payments", status="resolved"))
    replies = lambda: h.slack.bot_replies(INCIDENT_CHANNEL, root)  # noqa: E731
    posted = await h.slack.wait_for(lambda: next((m for m in replies() if "Postmortem" in m.text), None))
    text = visible(posted)
    for part in ("Timeline", "Fired", "Said (alice): I rolled back", "Action mentioned (alice)",
                 "Finding: The payments-api pods were OOMKilled", "Resolved", "Evidence digest",
                 "Open questions", "It is still unclear why"):
        assert part in text, part
    assert "rolled back payments-api to v41" in text.split("*Fix*")[1]

    # As Markdown, privately: by a mention in the thread, and by the slash command in the channel.
    md = await ephemeral(h, ALICE, INCIDENT_CHANNEL, "postmortem", thread=root)
    assert "```" in md and "# Postmortem: PaymentsOOM in payments" in md and "## Timeline (UTC)" in md
    assert "# Postmortem: PaymentsOOM" in await slash(h, ALICE, INCIDENT_CHANNEL, "postmortem")

    # A new alert of the same kind in the same namespace: found again, with link, date and fix.
    model.script("Same pattern as before: memory at the limit.")
    _, triage = await fire(h, alert("PaymentsOOM", "payments", group="2"))
    line = triage.split("This looks like", 1)[1].split("\n", 1)[0]
    assert f"<https://sim.slack.com/archives/{INCIDENT_CHANNEL}/p{root.replace('.', '')}|PaymentsOOM>" in line
    assert f"on {datetime.now(UTC):%Y-%m-%d}, fixed by: I rolled back payments-api to v41" in line
    assert "<past_incidents>" in model.last_request()

    # Asked directly: alice (payments in scope) gets it as data, vera (checkout only) never.
    await h.sender.dm(ALICE, DM_ALICE, "have we seen PaymentsOOM before?")
    await h.slack.wait_for(lambda: len(model.sim.requests) >= 4, timeout=15)
    assert "<past_incidents>" in model.last_request() and "v41" in model.last_request()
    await h.sender.dm(VERA, DM_VERA, "have we seen PaymentsOOM before?")
    await h.slack.wait_for(lambda: len(model.sim.requests) >= 5, timeout=15)
    assert "<past_incidents>" not in model.last_request() and "v41" not in model.last_request()
    # an ordinary question that neither names the alert nor asks about the past carries none along
    await h.sender.dm(ALICE, DM_ALICE, "is the payments database healthy right now?")
    await h.slack.wait_for(lambda: len(model.sim.requests) >= 6, timeout=15)
    assert "<past_incidents>" not in model.last_request()
    # vera cannot catch up on the payments thread either
    refused = await slash(h, VERA, INCIDENT_CHANNEL, "catchup")
    assert "v41" not in refused and "OOMKilled" not in refused


async def test_catchup_shows_nothing_out_of_the_askers_scope(start: Start) -> None:
    h, model = await start()
    model.script(
        "The payments ledger job holds a table lock. The checkout service is not the cause.",
        "Checkout looks healthy: no restarts and the error ratio is 0.1%.",
    )
    sent = await h.sender.mention(ALICE, CHANNEL, "why are payments and checkout slow?")
    thread = sent.payload["event"]["ts"]  # type: ignore[index]
    await h.wait_answer(CHANNEL, thread)
    await follow_up(h, VERA, CHANNEL, thread, "I'm checking the checkout ingress, is checkout affected?")

    vera = await ephemeral(h, VERA, CHANNEL, "catchup", thread=thread)
    assert "Checkout looks healthy" in vera
    assert "I'm checking the checkout ingress" in vera and "(vera," in vera
    assert "ledger" not in vera and "payments" not in vera.lower()  # alice's turn saw payments
    alice = await ephemeral(h, ALICE, CHANNEL, "catch-up", thread=thread)
    assert "ledger job holds a table lock" in alice and "Checkout looks healthy" in alice
    assert "not the cause" in alice.split("*Ruled out*")[1]
    # her postmortem of the (still open) thread is as narrow
    md = await ephemeral(h, VERA, CHANNEL, "postmortem", thread=thread)
    assert "# Postmortem: this thread" in md and "(still open)" in md and "Checkout looks healthy" in md
    assert "ledger" not in md and "payments" not in md.lower()
    # by the slash command with a link to the thread: the same; a link into another channel: refused
    link = f"https://sim.slack.com/archives/{CHANNEL}/p{thread.replace('.', '')}"
    assert await slash(h, VERA, CHANNEL, f"catchup {link}") == vera
    elsewhere = await slash(h, ALICE, INCIDENT_CHANNEL, f"catchup {link}")
    assert "another channel" in elsewhere and "ledger" not in elsewhere
    # private: nothing was posted to the thread for everyone
    assert not [m for m in h.slack.bot_replies(CHANNEL, thread) if "Catch-up" in m.text]
    rows = await h.audit_rows("query", user_message="/aiops catchup")
    assert [r["user_id"] for r in rows] == ["kc-vera", "kc-alice", "kc-vera"]
    assert len(await h.audit_rows("query", user_message="/aiops postmortem")) == 1
