"""A wire-faithful Slack Web API on 127.0.0.1, for tests, the benchmark and `aiops demo`.

Speaks `/api/<method>` as slack_sdk's `AsyncWebClient` sends it (query string, form or JSON
body, `Authorization: Bearer xoxb-…`) and answers `{"ok": true, …}` / `{"ok": false,
"error": …}` with `Retry-After` on 429 and `X-OAuth-Scopes` on every answer. It records every
call and keeps a model of the workspace (channels → messages with threads, edits, stream
chunks, files, reactions, ephemerals) so tests assert on what a person would see.

    async with SlackSimulator() as sim:
        client = AsyncWebClient(base_url=sim.base_url, token=sim.bot_token)
        root = sim.post_user_message("C1", "U1", "<@U0AIOPS> why?")
        ...  # the app answers
        await sim.wait_for(lambda: sim.bot_replies("C1", root.ts))
        print(sim.render_conversation("C1"))

Modules: `model` (records and limits), `workspace` (state, set-up, queries), `methods` (the Web
API methods), `render` (plain-text view), `server` (HTTP, call log, failure injection),
`socket_mode` (apps.connections.open with the app-level token → a WebSocket carrying envelopes).
Signed requests *to* the app are built by `sim.slack_events`.
"""

from sim.slack.model import SimError, SlackCall, SlackFile, SlackMessage, SlackUser, manifest_scopes
from sim.slack.server import SlackSimulator

__all__ = [
    "SimError",
    "SlackCall",
    "SlackFile",
    "SlackMessage",
    "SlackSimulator",
    "SlackUser",
    "manifest_scopes",
]
