"""Our own Slack workspace's host (`team.slack.com`), learned once from `auth.test`: links to its
threads (an incident's permalink in a postmortem or a "this looks like …" line) may then survive the
neutralizer like links to the configured Prometheus and Alertmanager hosts. Unknown until learned;
a failure is retried on the next use, never raised."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlparse

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class SlackWorkspace:
    def __init__(self, slack: AsyncWebClient) -> None:
        self._slack = slack
        self.hosts: set[str] = set()
        """Live: `SlackPosts` reads it whenever it opens a reply or posts."""
        self._lock = asyncio.Lock()

    async def learn(self) -> None:
        if self.hosts:
            return
        async with self._lock:
            if self.hosts:
                return
            try:
                url = str((await self._slack.auth_test()).get("url") or "")
            except (SlackApiError, OSError, TimeoutError) as exc:
                log.warning("workspace URL unknown (%s): thread links stay inert", type(exc).__name__)
                return
            host = urlparse(url).hostname
            if host and url.startswith("https://"):
                self.hosts.add(host.lower())

    def start(self) -> None:
        """Learn in the background (called where a loop runs, e.g. when a worker is built)."""
        try:
            task = asyncio.get_running_loop().create_task(self.learn())
        except RuntimeError:
            return
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
