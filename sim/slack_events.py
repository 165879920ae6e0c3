"""Signed Slack requests, built and sent exactly as Slack sends them to `POST /slack/events`.

Slack signs `v0:{timestamp}:{raw body}` with HMAC-SHA256 under the app's signing secret and
sends `X-Slack-Signature: v0=<hex>` and `X-Slack-Request-Timestamp`; a redelivery adds
`X-Slack-Retry-Num` / `X-Slack-Retry-Reason`. Events are JSON envelopes; slash commands and
interactivity are form-encoded (interactivity as one `payload=<json>` field).

    sender = SlackEventSender(url=app_url + "slack/events", signing_secret=secret, sim=slack_sim)
    result = await sender.mention("U123", "C1", "why is checkout failing?")
    assert result.status == 200
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp

if TYPE_CHECKING:
    from sim.slack import SlackSimulator

JSON = dict[str, Any]

DEFAULT_TEAM = "T0SIM"
DEFAULT_APP = "A0AIOPS"
DEFAULT_BOT_USER = "U0AIOPS"
_seq = itertools.count(1)


def sign(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` — Slack's request signature."""
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode() + b":" + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SignedRequest:
    body: bytes
    headers: dict[str, str]


def signed(
    body: bytes | str,
    *,
    signing_secret: str,
    content_type: str,
    timestamp: int | None = None,
    timestamp_shift: int = 0,
    forge: bool = False,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> SignedRequest:
    """Headers Slack would send. `timestamp_shift` moves the signed timestamp (e.g. -600 for a
    replay older than Bolt's 5-minute window); `forge=True` signs with a wrong secret."""
    raw = body.encode() if isinstance(body, str) else body
    ts = (timestamp if timestamp is not None else int(time.time())) + timestamp_shift
    secret = ("forged-" + signing_secret) if forge else signing_secret
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(secret, ts, raw),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return SignedRequest(raw, headers)


# ---- payload builders ------------------------------------------------------------------------


def _event_ts() -> str:
    now = time.time()
    return f"{int(now)}.{next(_seq) % 1_000_000:06d}"


def event_callback(
    event: JSON,
    *,
    team_id: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
    bot_user_id: str = DEFAULT_BOT_USER,
    event_id: str | None = None,
    event_time: int | None = None,
) -> JSON:
    """The Events API envelope around one event."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {"enterprise_id": None, "team_id": team_id, "user_id": bot_user_id, "is_bot": True,
             "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_hex(12)}",
    }


def _rich_text_blocks(text: str) -> list[JSON]:
    return [{"type": "rich_text", "block_id": secrets.token_hex(3),
             "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}]


def app_mention_event(
    *, user: str, channel: str, text: str, ts: str | None = None, thread_ts: str | None = None,
    team_id: str = DEFAULT_TEAM,
) -> JSON:
    ts = ts or _event_ts()
    event: JSON = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel,
                   "event_ts": ts, "team": team_id, "client_msg_id": str(uuid.uuid4()),
                   "blocks": _rich_text_blocks(text)}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def dm_message_event(
    *, user: str, channel: str, text: str, ts: str | None = None, thread_ts: str | None = None,
    team_id: str = DEFAULT_TEAM,
) -> JSON:
    ts = ts or _event_ts()
    event: JSON = {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts,
                   "channel": channel, "event_ts": ts, "team": team_id,
                   "client_msg_id": str(uuid.uuid4()), "blocks": _rich_text_blocks(text)}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def channel_message_event(
    *, user: str, channel: str, text: str, ts: str | None = None, thread_ts: str | None = None,
    team_id: str = DEFAULT_TEAM,
) -> JSON:
    """`message.channels` (C…) / `message.groups` (G…): a person's message in a channel."""
    ts = ts or _event_ts()
    event: JSON = {"type": "message", "channel_type": "group" if channel.startswith("G") else "channel",
                   "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts,
                   "team": team_id, "client_msg_id": str(uuid.uuid4()), "blocks": _rich_text_blocks(text)}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def assistant_thread_event(
    *, kind: str, user: str, channel: str, thread_ts: str, context_channel: str | None = None,
    team_id: str = DEFAULT_TEAM,
) -> JSON:
    """`assistant_thread_started` / `assistant_thread_context_changed`: the user opened the
    assistant container (or moved to another channel while it is open)."""
    context: JSON = {"team_id": team_id, "enterprise_id": None}
    if context_channel:
        context["channel_id"] = context_channel
    return {"type": kind, "assistant_thread": {"user_id": user, "context": context, "channel_id": channel,
                                               "thread_ts": thread_ts}, "event_ts": _event_ts()}


def url_verification(challenge: str | None = None) -> JSON:
    return {"token": "deprecated-verification-token", "challenge": challenge or secrets.token_urlsafe(24),
            "type": "url_verification"}


def slash_command_form(
    *, user_id: str, channel_id: str, text: str, command: str = "/aiops", team_id: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP, response_url: str = "https://hooks.slack.com/commands/T0SIM/1/x",
    trigger_id: str | None = None, user_name: str = "user", channel_name: str = "channel",
) -> dict[str, str]:
    return {
        "token": "deprecated-verification-token", "team_id": team_id, "team_domain": "sim",
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_name,
        "command": command, "text": text, "api_app_id": api_app_id, "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{next(_seq)}.{int(time.time())}.{secrets.token_hex(16)}",
    }


def block_actions_payload(
    *, user_id: str, channel_id: str, message_ts: str, action_id: str, value: str,
    thread_ts: str | None = None, block_id: str = "feedback", action_type: str = "feedback_buttons",
    message: JSON | None = None, team_id: str = DEFAULT_TEAM, api_app_id: str = DEFAULT_APP,
    response_url: str = "https://hooks.slack.com/actions/T0SIM/1/x",
) -> JSON:
    """A `block_actions` click, e.g. a feedback button (`action_type="feedback_buttons"`,
    value `positive`/`negative` as set on the element)."""
    container: JSON = {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                       "is_ephemeral": False}
    if thread_ts:
        container["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "user", "name": "user", "team_id": team_id},
        "api_app_id": api_app_id, "token": "deprecated-verification-token", "container": container,
        "trigger_id": f"{next(_seq)}.{int(time.time())}.{secrets.token_hex(16)}",
        "team": {"id": team_id, "domain": "sim"}, "enterprise": None, "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "channel"},
        "message": message or {"type": "message", "ts": message_ts, "thread_ts": thread_ts, "text": ""},
        "state": {"values": {}}, "response_url": response_url,
        "actions": [{"type": action_type, "action_id": action_id, "block_id": block_id, "value": value,
                     "action_ts": _event_ts()}],
    }


def json_body(payload: JSON) -> tuple[bytes, str]:
    return json.dumps(payload, separators=(",", ":")).encode(), "application/json"


def form_body(fields: dict[str, str]) -> tuple[bytes, str]:
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


def interactivity_body(payload: JSON) -> tuple[bytes, str]:
    return form_body({"payload": json.dumps(payload, separators=(",", ":"))})


# ---- sending ---------------------------------------------------------------------------------


@dataclass
class SendResult:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    payload: Any = None
    """What was sent (envelope, form fields or interactivity payload) — for follow-up asserts."""

    def json(self) -> Any:
        return json.loads(self.body)


async def send(
    url: str, body: bytes, content_type: str, *, signing_secret: str,
    session: aiohttp.ClientSession | None = None, **sign_options: Any,
) -> SendResult:
    """POST one signed request; `sign_options` go to `signed()` (forge, timestamp_shift, retry_num…)."""
    req = signed(body, signing_secret=signing_secret, content_type=content_type, **sign_options)
    own = session is None
    sess = session or aiohttp.ClientSession()
    try:
        async with sess.post(url, data=req.body, headers=req.headers) as resp:
            return SendResult(resp.status, await resp.text(), dict(resp.headers))
    finally:
        if own:
            await sess.close()


class SlackEventSender:
    """Plays the Slack side for one app URL: each user action becomes a human message in the
    simulator (when given one, so `conversations.replies` and `render_conversation` show it) and
    a signed request to the app."""

    def __init__(self, *, url: str, signing_secret: str, sim: SlackSimulator | None = None,
                 team_id: str | None = None, api_app_id: str | None = None,
                 bot_user_id: str | None = None, session: aiohttp.ClientSession | None = None) -> None:
        self.url = url
        self._secret = signing_secret
        self._sim = sim
        self.team_id = team_id or (sim.team_id if sim else DEFAULT_TEAM)
        self.api_app_id = api_app_id or (sim.app_id if sim else DEFAULT_APP)
        self.bot_user_id = bot_user_id or (sim.bot_user_id if sim else DEFAULT_BOT_USER)
        self._session = session

    async def post(self, body: bytes, content_type: str, **sign_options: Any) -> SendResult:
        return await send(self.url, body, content_type, signing_secret=self._secret,
                          session=self._session, **sign_options)

    async def event(self, event: JSON, *, event_id: str | None = None, **sign_options: Any) -> SendResult:
        envelope = event_callback(event, team_id=self.team_id, api_app_id=self.api_app_id,
                                  bot_user_id=self.bot_user_id, event_id=event_id)
        result = await self.post(*json_body(envelope), **sign_options)
        result.payload = envelope
        return result

    def _user_message(self, channel: str, user: str, text: str, thread_ts: str | None) -> str | None:
        if self._sim is None:
            return None
        return self._sim.post_user_message(channel, user, text, thread_ts=thread_ts).ts

    async def mention(self, user: str, channel: str, text: str, *, thread_ts: str | None = None,
                      event_id: str | None = None, **sign_options: Any) -> SendResult:
        """`@aiops <text>` in a channel (the `<@bot>` prefix is added when missing)."""
        tag = f"<@{self.bot_user_id}>"
        full = text if tag in text else f"{tag} {text}"
        ts = self._user_message(channel, user, full, thread_ts)
        ev = app_mention_event(user=user, channel=channel, text=full, ts=ts, thread_ts=thread_ts,
                               team_id=self.team_id)
        return await self.event(ev, event_id=event_id, **sign_options)

    async def dm(self, user: str, channel: str, text: str, *, thread_ts: str | None = None,
                 event_id: str | None = None, **sign_options: Any) -> SendResult:
        ts = self._user_message(channel, user, text, thread_ts)
        ev = dm_message_event(user=user, channel=channel, text=text, ts=ts, thread_ts=thread_ts,
                              team_id=self.team_id)
        return await self.event(ev, event_id=event_id, **sign_options)

    async def channel_message(self, user: str, channel: str, text: str, *, thread_ts: str | None = None,
                              event_id: str | None = None, ts: str | None = None,
                              **sign_options: Any) -> SendResult:
        """A message in a channel (`message.channels`); pass `ts` to send the copy of a message
        already posted (Slack sends `app_mention` and `message.channels` for one mention)."""
        ts = ts or self._user_message(channel, user, text, thread_ts)
        ev = channel_message_event(user=user, channel=channel, text=text, ts=ts, thread_ts=thread_ts,
                                   team_id=self.team_id)
        return await self.event(ev, event_id=event_id, **sign_options)

    async def assistant_thread(self, user: str, *, kind: str = "assistant_thread_started",
                               context_channel: str | None = None, thread_ts: str | None = None,
                               **sign_options: Any) -> SendResult:
        """The user opens the assistant container: Slack makes a thread in the bot's DM."""
        channel = self._sim.dm_channel(user) if self._sim else "D" + user[1:]
        if thread_ts is None:
            thread_ts = (self._sim.post_bot_root(channel) if self._sim else _event_ts())
        ev = assistant_thread_event(kind=kind, user=user, channel=channel, thread_ts=thread_ts,
                                    context_channel=context_channel, team_id=self.team_id)
        return await self.event(ev, **sign_options)

    async def command(self, user: str, channel: str, text: str, *, command: str = "/aiops",
                      trigger_id: str | None = None, **sign_options: Any) -> SendResult:
        if self._sim is not None and channel not in self._sim.channels:
            self._sim.add_channel(channel)  # a slash command is typed in a channel that exists
        response_url = (self._sim.response_url(channel, user) if self._sim
                        else "https://hooks.slack.com/commands/T0SIM/1/x")
        fields = slash_command_form(user_id=user, channel_id=channel, text=text, command=command,
                                    team_id=self.team_id, api_app_id=self.api_app_id,
                                    response_url=response_url, trigger_id=trigger_id)
        result = await self.post(*form_body(fields), **sign_options)
        result.payload = fields
        return result

    async def click(self, user: str, channel: str, message_ts: str, *, action_id: str, value: str,
                    thread_ts: str | None = None, action_type: str = "feedback_buttons",
                    block_id: str = "feedback", **sign_options: Any) -> SendResult:
        message: JSON | None = None
        if self._sim is not None:
            found = self._sim.message(channel, message_ts)
            message = found.to_api() if found else None
        response_url = (self._sim.response_url(channel, user) if self._sim
                        else "https://hooks.slack.com/actions/T0SIM/1/x")
        payload = block_actions_payload(user_id=user, channel_id=channel, message_ts=message_ts,
                                        action_id=action_id, value=value, thread_ts=thread_ts,
                                        block_id=block_id, action_type=action_type, message=message,
                                        team_id=self.team_id, api_app_id=self.api_app_id,
                                        response_url=response_url)
        result = await self.post(*interactivity_body(payload), **sign_options)
        result.payload = payload
        return result

    async def url_verification(self, challenge: str | None = None, **sign_options: Any) -> SendResult:
        payload = url_verification(challenge)
        result = await self.post(*json_body(payload), **sign_options)
        result.payload = payload
        return result
