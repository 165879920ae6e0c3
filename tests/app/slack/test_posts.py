"""Non-answer posts (ephemeral replies, thread roots) reach Slack neutralized."""

from __future__ import annotations

from app.jobs import Job
from app.slack.posts import SlackPosts

LOGIN = "https://sso.example.org/realms/aiops/device?user_code=ABCD-EFGH"


def job(kind: str) -> Job:
    return Job(job_id="j1", kind=kind, channel_id="C1", user_id="U1", team_id="T0SIM", text="x",
               event_ts="1.000001" if kind != "command" else None)  # fmt: skip


async def test_ephemeral_reply_keeps_the_login_link_but_not_a_broadcast(slack_sim, slack_client) -> None:
    posts = SlackPosts(client=slack_client, login_hosts=frozenset({"sso.example.org"}))
    text = posts.private_text(f"<!here> open <{LOGIN}|this link> or [that](https://evil.example/x)")
    assert f"<{LOGIN}|this link>" in text
    assert "<!here>" not in text and "https://evil.example" not in text
    public = SlackPosts(client=slack_client).private_text(f"<{LOGIN}|this link>")
    assert "<https://sso" not in public  # only with the identity provider's host allowed


async def test_posted_roots_allow_only_the_configured_hosts(slack_sim, slack_client) -> None:
    posts = SlackPosts(client=slack_client, link_hosts=frozenset({"prom.example.org"}))
    ts = await posts.post("C1", "<@U1> asked: <!channel> see https://prom.example.org/graph and http://evil.example/")
    [root] = [m for m in slack_sim.root_messages("C1") if m.ts == ts]
    assert "<!channel>" not in root.text and "https://prom.example.org/graph" in root.text
    assert "http://evil.example" not in root.text
    assert "<@U1>" not in root.text  # generated text cannot mention; command_root adds the asker
