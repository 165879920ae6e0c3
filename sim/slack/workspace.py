"""The simulated workspace: channels → messages, users, files — set-up and queries for tests.

No HTTP here; `WebApi` (methods.py) changes this state the way Slack's Web API would, and
`SlackSimulator` (server.py) serves it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Collection

from sim.slack.model import JSON, STREAM_LIFETIME_S, SimError, SlackFile, SlackMessage, SlackUser


class Workspace:
    def __init__(
        self,
        *,
        bot_token: str,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        users: list[SlackUser] | None,
        scopes: Collection[str] | None,
        strict_channels: bool,
        stream_lifetime: float = STREAM_LIFETIME_S,
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.scopes = frozenset(scopes) if scopes is not None else None
        self.strict_channels = strict_channels
        self.stream_lifetime = stream_lifetime
        self.users: dict[str, SlackUser] = {u.id: u for u in users or []}
        self.users.setdefault(bot_user_id, SlackUser(bot_user_id, "aiops", is_bot=True))
        self.channels: dict[str, list[SlackMessage]] = {}
        self.channel_names: dict[str, str] = {}
        self.not_member: set[str] = set()
        """Channels the bot has not joined: posting there fails with `not_in_channel`."""
        self.ext_shared: set[str] = set()
        """Slack Connect channels (`is_ext_shared` in conversations.info)."""
        self.files: dict[str, SlackFile] = {}
        self.statuses: list[JSON] = []
        """Every assistant.threads.setStatus as {channel_id, thread_ts, status}."""
        self.suggested_prompts: list[JSON] = []
        """Every assistant.threads.setSuggestedPrompts as {channel_id, thread_ts, prompts, title}."""
        self.titles: dict[tuple[str, str], str] = {}
        """(channel, thread_ts) → the assistant thread's title."""
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()

    # ---- set-up ----------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, email: str | None = None,
                 is_email_confirmed: bool = True) -> SlackUser:
        user = SlackUser(user_id, name, email=email, is_email_confirmed=is_email_confirmed)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str | None = None, *, bot_member: bool = True,
                    ext_shared: bool = False) -> None:
        """A channel; `bot_member=False`: the bot was never invited (Slack: `not_in_channel`);
        `ext_shared=True`: a Slack Connect channel shared with another organisation."""
        self.channels.setdefault(channel_id, [])
        self.channel_names[channel_id] = name or self.channel_names.get(channel_id, channel_id)
        (self.not_member.discard if bot_member else self.not_member.add)(channel_id)
        (self.ext_shared.add if ext_shared else self.ext_shared.discard)(channel_id)

    def is_member(self, channel_id: str) -> bool:
        return channel_id.startswith("D") or channel_id not in self.not_member

    def post_user_message(self, channel: str, user: str, text: str, *,
                          thread_ts: str | None = None) -> SlackMessage:
        """A person's message (what the app then hears about as an event)."""
        msg = SlackMessage(channel=channel, ts=self._next_ts(), text=text, user=user, thread_ts=thread_ts)
        self._channel(channel, create=True).append(msg)
        self._touch()
        return msg

    def post_bot_root(self, channel: str) -> str:
        """The root Slack itself posts as the app when a user opens an assistant thread."""
        return self._post(channel, "", None, None).ts

    def stop_stream_by_user(self, channel: str, ts: str) -> None:
        """The reader pressed Stop: later appends/stops answer `stopped_by_user`."""
        msg = self.message(channel, ts)
        if msg is None or not msg.streaming:
            raise ValueError(f"no streaming message {ts} in {channel}")
        msg.streaming, msg.stopped_by_user = False, True
        self._touch()

    def dm_channel(self, user: str) -> str:
        """The bot's DM with `user` (what posting to a user id, or conversations.open, uses)."""
        channel = "D" + user[1:]
        self.add_channel(channel, f"dm-{self.users[user].name if user in self.users else user}")
        return channel

    # ---- queries ---------------------------------------------------------------------------

    def messages(self, channel: str, *, include_ephemeral: bool = False) -> list[SlackMessage]:
        """Every message in the channel (roots and replies), oldest first."""
        return [m for m in self.channels.get(channel, [])
                if not m.deleted and (include_ephemeral or m.ephemeral_to is None)]

    def root_messages(self, channel: str) -> list[SlackMessage]:
        return [m for m in self.messages(channel) if not m.is_reply]

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        return next((m for m in self.messages(channel) if m.ts == ts), None)

    def thread(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        """The root (when known) and its replies, oldest first."""
        return [m for m in self.messages(channel) if m.ts == thread_ts or m.thread_ts == thread_ts]

    def replies_in_thread(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        return [m for m in self.thread(channel, thread_ts) if m.ts != thread_ts]

    def bot_replies(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        return [m for m in self.replies_in_thread(channel, thread_ts) if m.is_bot]

    def ephemerals(self, channel: str, user: str | None = None) -> list[SlackMessage]:
        return [m for m in self.channels.get(channel, [])
                if m.ephemeral_to is not None and (user is None or m.ephemeral_to == user)]

    def files_in_thread(self, channel: str, thread_ts: str) -> list[SlackFile]:
        return [f for m in self.replies_in_thread(channel, thread_ts) for f in m.files]

    def status_of(self, channel: str, thread_ts: str) -> str | None:
        """The thread's current assistant status ("" once cleared), None if never set."""
        found = [s["status"] for s in self.statuses
                 if s["channel_id"] == channel and s["thread_ts"] == thread_ts]
        return found[-1] if found else None

    # ---- internals shared with the Web API methods -----------------------------------------

    def _touch(self) -> None:
        self._changed.set()

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _next_ts(self) -> str:
        # Unique and strictly increasing, like Slack's message ts.
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        sec, usec = divmod(self._last_ts_us, 1_000_000)
        return f"{sec}.{usec:06d}"

    def _channel(self, channel: str | None, *, create: bool = False) -> list[SlackMessage]:
        if not channel:
            raise SimError("channel_not_found")
        if channel not in self.channels:
            if self.strict_channels and not create:
                raise SimError("channel_not_found")
            self.add_channel(channel)
        return self.channels[channel]

    def _bot_message(self, channel: str, ts: str) -> SlackMessage:
        msg = self.message(channel, ts)
        if msg is None:
            raise SimError("message_not_found")
        if not msg.is_bot:
            raise SimError("cant_update_message")
        return msg

    def _post(self, channel: str, text: str, blocks: list[JSON] | None, thread_ts: str | None, *,
              ephemeral_to: str | None = None) -> SlackMessage:
        msg = SlackMessage(channel=channel, ts=self._next_ts(), text=text or "", user=self.bot_user_id,
                           bot_id=self.bot_id, thread_ts=thread_ts or None, blocks=list(blocks or []),
                           ephemeral_to=ephemeral_to)
        self._channel(channel).append(msg)
        return msg
