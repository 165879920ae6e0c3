"""Model text streamed into Slack cannot ping the channel or link elsewhere (issue 11 item 2)."""

from __future__ import annotations

from sim.anthropic import SimReply
from tests.scenario.conftest import ALICE, CHANNEL, Harness


async def test_streamed_append_with_channel_broadcast_reaches_slack_neutralized(harness: Harness) -> None:
    hostile = (
        "The checkout pod annotation says: <!channel> urgent, <@U0ADMIN> log in at "
        "[the console](https://evil.example/login) or <https://evil.example/x|Prometheus>.\n"
    )
    harness.anthropic.script([SimReply(text=hostile * 3)])
    sent = await harness.sender.mention(ALICE, CHANNEL, "why is checkout failing?")
    root_ts = sent.payload["event"]["ts"]  # type: ignore[index]
    answer = await harness.wait_answer(CHANNEL, root_ts)

    appended = [c["text"] for c in answer.chunks if c.get("type") == "markdown_text"]
    assert harness.slack.calls_to("chat.appendStream"), "the answer was streamed"
    streamed = "".join(appended)
    assert "&lt;!channel>" in streamed  # the append reached Slack, neutralized
    for posted in (streamed, str(answer.blocks), answer.text):
        assert "<!channel>" not in posted and "<@U0ADMIN>" not in posted
        assert "https://evil.example" not in posted and "<https://evil" not in posted
    assert "the console" in streamed  # the link text stays readable
