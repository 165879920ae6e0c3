"""What the Slack simulator remembers: calls, users, files, messages — and Slack's limits."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

JSON = dict[str, Any]

MAX_BLOCKS = 50
MAX_TEXT = 40_000
MAX_MARKDOWN = 12_000
"""markdown_text (postMessage, streams) is limited to 12,000 characters per call."""
MAX_LOADING_MESSAGES = 10
STREAM_LIFETIME_S = 300.0
"""Slack ends a streamed message about five minutes after chat.startStream."""

# Bot scopes each method needs (any one of them). Methods not listed need none.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.startStream": ("chat:write",),
    "chat.appendStream": ("chat:write",),
    "chat.stopStream": ("chat:write",),
    "assistant.threads.setStatus": ("chat:write", "assistant:write"),
    "users.info": ("users:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    "reactions.add": ("reactions:write",),
    "conversations.open": ("im:write", "mpim:write"),
    "assistant.threads.setSuggestedPrompts": ("assistant:write",),
    "assistant.threads.setTitle": ("assistant:write",),
}
# conversations.replies depends on the conversation type (first letter of its id).
HISTORY_SCOPES = {"C": "channels:history", "G": "groups:history", "D": "im:history"}
READ_SCOPES = {"C": "channels:read", "G": "groups:read", "D": "im:read"}
"""conversations.info, by conversation type."""
RESPONSE_URL_LIFETIME_S = 30 * 60
RESPONSE_URL_USES = 5
"""A response_url accepts 5 replies within 30 minutes, in channels the bot never joined too."""


def manifest_scopes(path: Path | None = None) -> frozenset[str] | None:
    """The bot scopes granted by the repository's `manifest.yaml` (None when it is not there),
    so tests fail like production would when a method needs a scope the manifest lacks."""
    path = path or Path(__file__).resolve().parents[2] / "manifest.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    bot = ((data or {}).get("oauth_config") or {}).get("scopes", {}).get("bot")
    return frozenset(bot) if isinstance(bot, list) else None


class SimError(Exception):
    """Answered as `{"ok": false, "error": code, **extra}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def require_scope(method: str, granted: Collection[str] | None, channel: str | None = None) -> None:
    if granted is None:
        return
    needed = METHOD_SCOPES.get(method, ())
    if method == "conversations.replies" and channel:
        needed = (HISTORY_SCOPES.get(channel[:1], "channels:history"),)
    if method == "conversations.info" and channel:
        needed = (READ_SCOPES.get(channel[:1], "channels:read"),)
    if needed and not any(s in granted for s in needed):
        raise SimError("missing_scope", needed=",".join(needed), provided=",".join(sorted(granted)))


@dataclass
class SlackCall:
    method: str
    params: JSON
    status: int
    ok: bool
    error: str | None = None
    token: str | None = None
    at: float = field(default_factory=time.time)


@dataclass
class SlackUser:
    id: str
    name: str
    email: str | None = None
    is_email_confirmed: bool = True
    is_bot: bool = False
    deleted: bool = False

    def to_api(self, team_id: str, *, with_email: bool) -> JSON:
        profile: JSON = {"real_name": self.name, "display_name": self.name}
        if self.email is not None and with_email:  # needs users:read.email
            profile["email"] = self.email
        return {"id": self.id, "team_id": team_id, "name": self.name, "real_name": self.name,
                "deleted": self.deleted, "is_bot": self.is_bot,
                "is_email_confirmed": self.is_email_confirmed, "profile": profile}


@dataclass
class SlackFile:
    id: str
    name: str
    length: int
    title: str | None = None
    alt_txt: str | None = None
    content: bytes | None = None
    channel: str | None = None
    thread_ts: str | None = None

    def to_api(self) -> JSON:
        return {"id": self.id, "name": self.name, "title": self.title or self.name,
                "size": len(self.content or b""), "alt_txt": self.alt_txt}


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    blocks: list[JSON] = field(default_factory=list)
    files: list[SlackFile] = field(default_factory=list)
    edits: list[JSON] = field(default_factory=list)
    """Earlier versions ({text, blocks}); the current one is text/blocks."""
    chunks: list[JSON] = field(default_factory=list)
    """Every chunk a stream delivered, in order."""
    streaming: bool = False
    stream_mode: str | None = None
    """"text" (opened with markdown_text) or "chunks" — a stream keeps the shape it opened with."""
    stream_started: float = 0.0
    stopped_by_user: bool = False
    ephemeral_to: str | None = None
    deleted: bool = False
    metadata: JSON | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self) -> JSON:
        out: JSON = {"type": "message", "ts": self.ts, "text": self.text}
        optional: JSON = {"user": self.user, "bot_id": self.bot_id, "thread_ts": self.thread_ts,
                          "blocks": self.blocks, "metadata": self.metadata,
                          "files": [f.to_api() for f in self.files]}
        out.update({k: v for k, v in optional.items() if v})
        if self.edits:
            out["edited"] = {"user": self.user, "ts": self.ts}
        if self.reactions:
            out["reactions"] = [{"name": n, "users": u, "count": len(u)} for n, u in self.reactions.items()]
        return out
