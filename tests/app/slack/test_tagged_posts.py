"""A job's earlier posts are found by their tag however long the thread is (the Slack simulator
pages `conversations.replies` as Slack does): a redelivered job in a long alert thread rewrites
its message instead of posting it again."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from app.slack.reply import answer_tag, tagged_posts
from sim.slack import SlackSimulator

CHANNEL = "C0LONG"


async def test_a_tag_past_the_first_page_is_found() -> None:
    async with SlackSimulator() as sim:
        sim.add_channel(CHANNEL, "incidents")
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        root = str((await client.chat_postMessage(channel=CHANNEL, text="FIRING"))["ts"])
        for i in range(450):  # a long-running incident
            await client.chat_postMessage(channel=CHANNEL, thread_ts=root, text=f"reply {i}")
        mine = await client.chat_postMessage(
            channel=CHANNEL, thread_ts=root, text="resolved", metadata=answer_tag("job-1", "resolved")
        )
        found = await tagged_posts(client, CHANNEL, root, "job-1")
        assert found == {"resolved": str(mine["ts"])}
        pages = [c for c in sim.calls if c.method == "conversations.replies"]
        assert len(pages) == 3  # 452 messages, 200 a page
