"""Socket Mode: with a `slack_app_token` secret, `aiops serve` also connects to Slack over a
WebSocket (apps.connections.open → wss) and answers events that arrive there — acknowledged by
envelope id, deduplicated by event id like HTTP deliveries, answered once in the thread."""

from __future__ import annotations

import asyncio
import secrets as pysecrets
import signal
import socket
from pathlib import Path

import asyncpg

from sim.anthropic import AnthropicSim
from sim.slack import SlackSimulator
from sim.slack_events import app_mention_event, event_callback
from tests.scenario.conftest import ALICE, AUDIT_REF, CHANNEL, audit_ref, spawn_cli, visible


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mention(sim: SlackSimulator, text: str) -> tuple[str, dict]:
    ts = sim.post_user_message(CHANNEL, ALICE, f"<@{sim.bot_user_id}> {text}").ts
    event = app_mention_event(user=ALICE, channel=CHANNEL, text=f"<@{sim.bot_user_id}> {text}", ts=ts,
                              team_id=sim.team_id)
    return ts, event_callback(event, team_id=sim.team_id, api_app_id=sim.app_id,
                              bot_user_id=sim.bot_user_id)


async def test_events_over_socket_mode_are_acked_and_answered_once(
    slack_sim: SlackSimulator,
    anthropic_sim: AnthropicSim,
    scenario_env: dict[str, str],
    pg_pool: asyncpg.Pool,
) -> None:
    slack_sim.app_token = f"xapp-1-{pysecrets.token_hex(12)}"
    (Path(scenario_env["AIOPS_SECRETS_DIR"]) / "slack_app_token").write_text(slack_sim.app_token)
    proc = spawn_cli(scenario_env | {"AIOPS_HTTP_PORT": str(free_port())}, "serve")
    try:
        await slack_sim.socket.wait_connected(timeout=60)
        opened = slack_sim.calls_to("apps.connections.open")
        assert opened and all(c.ok and c.token == slack_sim.app_token for c in opened)

        ts, envelope = mention(slack_sim, "why is checkout slow?")
        first = await slack_sim.socket.send_event(envelope)
        assert (await slack_sim.socket.wait_ack(first))["envelope_id"] == first

        def answers(thread: str) -> list:
            return [m for m in slack_sim.bot_replies(CHANNEL, thread) if AUDIT_REF in visible(m)]

        answer = (await slack_sim.wait_for(lambda: answers(ts), timeout=30))[0]
        assert "why is checkout slow?" in visible(answer)
        row = await slack_sim.wait_for(  # written right after the answer is shown
            lambda: pg_pool.fetchrow("SELECT * FROM audit_events WHERE id = $1::uuid", audit_ref(answer)),
            timeout=10,
        )
        assert row["user_id"] == "kc-alice"

        # Slack redelivers the same event (no ack seen in time): acked again, not answered again.
        again = await slack_sim.socket.send_event(envelope, retry_attempt=1)
        await slack_sim.socket.wait_ack(again)
        later_ts, later = mention(slack_sim, "and payments?")
        await slack_sim.socket.send_event(later)
        await slack_sim.wait_for(lambda: answers(later_ts), timeout=30)  # processed after the retry
        assert len(answers(ts)) == 1
        assert len(anthropic_sim.requests) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        # wait off the event loop: the simulator must keep serving the WebSocket close handshake
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert slack_sim.app_token.encode() not in err  # the app token is never logged
