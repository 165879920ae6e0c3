"""The demo's script and narration: `run_demo` plays the incident, prints the conversations
and the audit rows, then (`--interactive`) reads questions from stdin. The world it plays in is
`sim.demo.world`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Mapping
from typing import IO

from app.config import DEFAULT_SECRETS_DIR
from sim.demo.world import (
    ANSWER_TIMEOUT_S,
    INCIDENTS,
    MALLORY,
    PEOPLE,
    DemoApp,
    Person,
    alert,
    running_demo,
)
from sim.slack import SlackMessage
from sim.slack.render import message_body

# ---- the script --------------------------------------------------------------------------------


class Narrator:
    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self._t0 = time.monotonic()

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def step(self, text: str) -> float:
        self.say(f"▶ {text}")
        return time.monotonic()

    def done(self, since: float, text: str = "answered") -> None:
        self.say(f"  … {text} in {(time.monotonic() - since) * 1000:.0f} ms")


async def play_script(app: DemoApp, n: Narrator) -> None:
    alice, vera = PEOPLE["alice"], PEOPLE["vera"]
    t = n.step("Alertmanager fires KubePodCrashLooping for shop/orders → a thread in #incidents")
    status = await app.post_alert(alert("firing"))
    if status != 200:
        raise DemoFailed(f"the Alertmanager webhook answered HTTP {status}")
    roots = await app.slack.wait_for(lambda: app.slack.root_messages(INCIDENTS), timeout=ANSWER_TIMEOUT_S)
    root_ts = roots[0].ts
    await app.answer(INCIDENTS, root_ts)
    n.done(t, "triaged")

    t = n.step("alice (analyst: shop, payments) asks a follow-up in that thread")
    await app.sender.mention(alice.user_id, INCIDENTS, "anything else broken in payments?", thread_ts=root_ts)
    await app.answer(INCIDENTS, root_ts, after=1)
    n.done(t)

    t = n.step("vera (viewer: shop) DMs the bot")
    sent = await app.sender.dm(vera.user_id, vera.dm, "why is the orders service down?")
    await app.answer(vera.dm, sent.payload["event"]["ts"])
    n.done(t)

    t = n.step("mallory, who has no Keycloak identity, asks in #incidents → refused privately with the fix")
    await app.sender.mention(MALLORY, INCIDENTS, "what is wrong with payments?")
    await app.slack.wait_for(lambda: app.slack.ephemerals(INCIDENTS, MALLORY), timeout=ANSWER_TIMEOUT_S)
    n.done(t, "refused")

    t = n.step("vera runs /aiops whoami in #incidents (the reply is only visible to her)")
    await app.sender.command(vera.user_id, INCIDENTS, "whoami")
    await app.slack.wait_for(lambda: app.slack.ephemerals(INCIDENTS, vera.user_id), timeout=ANSWER_TIMEOUT_S)
    n.done(t)

    t = n.step("Alertmanager sends resolved → the same thread is updated and gets its postmortem")
    await app.post_alert(alert("resolved"))
    await app.answer(INCIDENTS, root_ts, after=2)
    await app.slack.wait_for(
        lambda: [m for m in app.slack.bot_replies(INCIDENTS, root_ts) if "Postmortem" in m.text],
        timeout=ANSWER_TIMEOUT_S,
    )
    n.done(t, "updated")


class DemoFailed(Exception):
    pass


# ---- output ------------------------------------------------------------------------------------


async def print_audit(app: DemoApp, n: Narrator) -> None:
    rows = await app.runtime.stores.pg.fetch(
        "SELECT id, event_type, user_id, timestamp, user_message, namespace, failure_reason,"
        " tool_calls, token_count, latency_ms FROM audit_events WHERE timestamp >= $1"
        " ORDER BY timestamp",
        app.started_at,
    )
    n.say(f"audit_events written by this run ({len(rows)} rows, append-only):")
    for r in rows:
        detail = r["user_message"] or r["failure_reason"] or ""
        calls = json.loads(r["tool_calls"]) if r["tool_calls"] else []
        tools = ",".join(sorted({c.get("tool", "?") for c in calls}))
        extra = "".join(
            [
                f" ns={r['namespace']}" if r["namespace"] else "",
                f" tools={tools}" if tools else "",
                f" {r['latency_ms']}ms" if r["latency_ms"] is not None else "",
            ]
        )
        when = r["timestamp"].strftime("%H:%M:%S")
        n.say(f"  {when} {r['event_type']:<14} {r['user_id']:<10} {str(r['id'])[:8]}{extra}  {detail[:70]}")


def print_conversations(app: DemoApp, n: Narrator) -> None:
    for channel in [INCIDENTS, *(p.dm for p in PEOPLE.values())]:
        if not app.slack.messages(channel):
            continue
        n.say(app.slack.render_conversation(channel))
        for eph in app.slack.ephemerals(channel):
            who = app.slack.users[eph.ephemeral_to].name if eph.ephemeral_to in app.slack.users else "?"
            n.say(f"  (only visible to {who}) " + message_body(eph).replace("\n", "\n    "))
        n.say()


# ---- interactive -------------------------------------------------------------------------------

INTERACTIVE_HELP = (
    "Type a question to DM the bot as {name}. `/aiops <text>` runs a slash command in #incidents,\n"
    "`as <name>` switches user ({names}), an empty line or Ctrl-D quits."
)


async def interactive(app: DemoApp, n: Narrator, inp: IO[str], who: str) -> None:
    person = PEOPLE[who]
    n.say(INTERACTIVE_HELP.format(name=person.name, names=", ".join(PEOPLE)))
    while True:
        n.out.write(f"{person.name}> ")
        n.out.flush()
        line = (await asyncio.to_thread(inp.readline)).strip()
        if not line:
            return
        if line.startswith("as "):
            name = line[3:].strip()
            if name not in PEOPLE:
                n.say(f"no such demo user {name!r}; choose one of: {', '.join(PEOPLE)}")
            else:
                person = PEOPLE[name]
            continue
        try:
            n.say(await _ask(app, person, line))
        except TimeoutError as exc:
            n.say(f"no answer: {exc}")


async def _ask(app: DemoApp, person: Person, line: str) -> str:
    if line.startswith("/aiops"):
        before = len(app.slack.ephemerals(INCIDENTS, person.user_id))
        roots = len(app.slack.root_messages(INCIDENTS))
        sent = await app.sender.command(person.user_id, INCIDENTS, line.removeprefix("/aiops").strip())
        if sent.status != 200:
            return f"(HTTP {sent.status}) {sent.body}"

        def outcome() -> SlackMessage | None:
            ephemerals = app.slack.ephemerals(INCIDENTS, person.user_id)
            if len(ephemerals) > before:
                return ephemerals[-1]
            new_roots = app.slack.root_messages(INCIDENTS)[roots:]
            return new_roots[0] if new_roots else None

        try:
            msg = await app.slack.wait_for(outcome, timeout=5)
        except TimeoutError:
            return sent.body  # answered synchronously (help, usage errors)
        if msg.ephemeral_to is not None:
            return message_body(msg)
        return message_body(await app.answer(INCIDENTS, msg.ts))
    sent = await app.sender.dm(person.user_id, person.dm, line)
    return message_body(await app.answer(person.dm, sent.payload["event"]["ts"]))


# ---- entry point -------------------------------------------------------------------------------


async def run_demo(
    environ: Mapping[str, str],
    *,
    interactive_as: str | None = None,
    out: IO[str] = sys.stdout,
    inp: IO[str] = sys.stdin,
) -> int:
    n = Narrator(out)
    async with running_demo(environ) as app:
        stores = ", ".join(app.runtime.stores.embedded) or "none"
        mode = (
            "Claude (anthropic_api_key found)"
            if app.runtime.secrets.anthropic_api_key is not None
            else "OFFLINE MODE — no Anthropic key, so answers come from the deterministic analyzers "
            f"(put a key in {environ.get('AIOPS_SECRETS_DIR', DEFAULT_SECRETS_DIR)}/anthropic_api_key "
            "to use Claude)"
        )
        n.say("aiops demo: the real bot against a simulated Slack workspace and Kubernetes cluster")
        n.say(f"  embedded stores: {stores}; agent: {mode}")
        n.say(f"  Web UI and REST API: {app.api_url}/ (log in as alice or vera, password 'password'); "
              f"terminal: AIOPS_API_URL={app.api_url} aiops login")
        n.say()
        try:
            await play_script(app, n)
        except (DemoFailed, TimeoutError) as exc:
            n.say(f"demo failed: {exc}")
            print_conversations(app, n)
            return 1
        n.say()
        print_conversations(app, n)
        await app.audited()
        await print_audit(app, n)
        if interactive_as is not None:
            n.say()
            await interactive(app, n, inp, interactive_as)
    return 0
