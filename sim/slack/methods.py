"""The Web API methods: each `_m_<method>` takes the merged request parameters and returns the
fields that go next to `"ok": true`, or raises `SimError(code)` like Slack's `"ok": false`.

Error codes are Slack's documented ones; the streaming codes that Slack does not document
(`streaming_state_conflict`, `streaming_mode_mismatch`, `stopped_by_user`) are the ones
observed against the live API by other Slack integrations.
"""

from __future__ import annotations

import time
from typing import Any

from sim.slack.model import (
    JSON,
    MAX_BLOCKS,
    MAX_LOADING_MESSAGES,
    MAX_MARKDOWN,
    MAX_TEXT,
    SimError,
    SlackFile,
    SlackMessage,
    require_scope,
)
from sim.slack.workspace import Workspace


class WebApi(Workspace):
    def dispatch(self, method: str, params: JSON) -> JSON:
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            raise SimError("unknown_method")
        require_scope(method, self.scopes, _str(params.get("channel")))
        result: JSON = handler(params)
        return result

    def _m_auth_test(self, p: JSON) -> JSON:
        return {"url": "https://sim.slack.com/", "team": "Simulated", "user": "aiops",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    # ---- messages --------------------------------------------------------------------------

    def _target(self, p: JSON) -> str:
        channel = str(p.get("channel") or "")
        # Posting to a user id posts into the bot's DM with that user.
        return self.dm_channel(channel) if channel.startswith(("U", "W")) else channel

    def _writable(self, channel: str) -> str:
        """Slack refuses posts in a channel the bot has not joined, unless it holds
        chat:write.public and the channel is public."""
        if not self.is_member(channel):
            public = channel.startswith("C") and (self.scopes is None or "chat:write.public" in self.scopes)
            if not public:
                raise SimError("not_in_channel")
        return channel

    def _m_chat_postMessage(self, p: JSON) -> JSON:
        text, blocks = _content(p, required=True)
        msg = self._post(self._writable(self._target(p)), text, blocks, _str(p.get("thread_ts")))
        msg.metadata = p.get("metadata") if isinstance(p.get("metadata"), dict) else None
        return {"channel": msg.channel, "ts": msg.ts, "message": msg.to_api()}

    def _m_chat_postEphemeral(self, p: JSON) -> JSON:
        text, blocks = _content(p, required=True)
        user = _str(p.get("user"))
        if not user or user not in self.users:
            raise SimError("user_not_in_channel")
        msg = self._post(self._writable(self._target(p)), text, blocks, _str(p.get("thread_ts")),
                         ephemeral_to=user)
        return {"message_ts": msg.ts}

    def _m_chat_update(self, p: JSON) -> JSON:
        channel = str(p.get("channel") or "")
        self._channel(channel)
        msg = self._bot_message(channel, str(p.get("ts") or ""))
        if msg.streaming:
            raise SimError("streaming_state_conflict")
        text, blocks = _content(p, required=False)
        msg.edits.append({"text": msg.text, "blocks": msg.blocks})
        if "text" in p or "markdown_text" in p:
            msg.text = text
        if "blocks" in p:
            msg.blocks = blocks
        return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": msg.to_api()}

    def _m_chat_delete(self, p: JSON) -> JSON:
        channel = str(p.get("channel") or "")
        self._channel(channel)
        msg = self._bot_message(channel, str(p.get("ts") or ""))
        msg.deleted = True
        return {"channel": channel, "ts": msg.ts}

    def _m_chat_getPermalink(self, p: JSON) -> JSON:
        channel, ts = str(p.get("channel") or ""), str(p.get("message_ts") or "")
        msg = self.message(channel, ts)
        if msg is None:
            raise SimError("message_not_found")
        link = f"https://sim.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        if msg.is_reply:
            link += f"?thread_ts={msg.thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _m_reactions_add(self, p: JSON) -> JSON:
        msg = self.message(str(p.get("channel") or ""), str(p.get("timestamp") or ""))
        if msg is None:
            raise SimError("message_not_found")
        users = msg.reactions.setdefault(str(p.get("name") or ""), [])
        if self.bot_user_id in users:
            raise SimError("already_reacted")
        users.append(self.bot_user_id)
        return {}

    def _m_conversations_open(self, p: JSON) -> JSON:
        users = [u for u in str(p.get("users") or "").split(",") if u]
        if len(users) != 1 or users[0] not in self.users:
            raise SimError("user_not_found")
        return {"channel": {"id": self.dm_channel(users[0])}}

    # ---- streaming (chat.startStream / appendStream / stopStream) --------------------------

    def _m_chat_startStream(self, p: JSON) -> JSON:
        channel = self._writable(self._target(p))
        self._channel(channel)
        thread_ts = _str(p.get("thread_ts"))
        if thread_ts is None and channel.startswith("D"):
            raise SimError("invalid_arguments")  # top-level streams only in channels
        # Documented as required in channels; enforced everywhere so DMs cannot hide a gap.
        for key in ("recipient_team_id", "recipient_user_id"):
            if not p.get(key):
                raise SimError(f"missing_{key}")
        msg = self._post(channel, "", None, thread_ts)
        msg.streaming, msg.stream_started = True, time.monotonic()
        msg.stream_mode = "chunks" if p.get("chunks") else ("text" if p.get("markdown_text") else None)
        self._append(msg, p)
        return {"channel": channel, "ts": msg.ts}

    def _m_chat_appendStream(self, p: JSON) -> JSON:
        msg = self._streaming(p)
        if not p.get("markdown_text") and not p.get("chunks"):
            raise SimError("no_text")
        self._append(msg, p)
        return {"channel": msg.channel, "ts": msg.ts}

    def _m_chat_stopStream(self, p: JSON) -> JSON:
        msg = self._streaming(p)
        self._append(msg, p)
        if p.get("blocks"):
            if not isinstance(p["blocks"], list):
                raise SimError("invalid_blocks_format")
            msg.blocks = list(p["blocks"])
        if isinstance(p.get("metadata"), dict):
            msg.metadata = p["metadata"]
        msg.streaming = False
        return {"channel": msg.channel, "ts": msg.ts, "message": msg.to_api()}

    def _streaming(self, p: JSON) -> SlackMessage:
        channel = str(p.get("channel") or "")
        self._channel(channel)
        msg = self.message(channel, str(p.get("ts") or ""))
        if msg is None:
            raise SimError("message_not_found")
        if not msg.is_bot:
            raise SimError("message_not_owned_by_app")
        if msg.streaming and time.monotonic() - msg.stream_started > self.stream_lifetime:
            msg.streaming = False  # Slack closes it on its own after the lifetime
        if msg.stopped_by_user:
            raise SimError("stopped_by_user")
        if not msg.streaming:
            raise SimError("message_not_in_streaming_state")
        return msg

    def _append(self, msg: SlackMessage, p: JSON) -> None:
        chunks = p.get("chunks") or []
        if not isinstance(chunks, list) or not all(isinstance(c, dict) for c in chunks):
            raise SimError("invalid_chunks_format")
        markdown = p.get("markdown_text")
        mode = "chunks" if chunks else ("text" if markdown else None)
        if mode and msg.stream_mode and mode != msg.stream_mode:
            raise SimError("streaming_mode_mismatch")
        msg.stream_mode = msg.stream_mode or mode
        new = ([{"type": "markdown_text", "text": str(markdown)}] if markdown else []) + list(chunks)
        for chunk in new:
            if chunk.get("type") == "markdown_text" and len(str(chunk.get("text", ""))) > MAX_MARKDOWN:
                raise SimError("msg_too_long")
        for chunk in new:
            if chunk.get("type") == "markdown_text":
                msg.text += str(chunk.get("text", ""))
        msg.chunks.extend(new)

    def _m_assistant_threads_setStatus(self, p: JSON) -> JSON:
        channel, thread_ts = _str(p.get("channel_id")), _str(p.get("thread_ts"))
        if channel is None:
            raise SimError("channel_not_found")
        if thread_ts is None:
            raise SimError("invalid_thread_ts")
        if "status" not in p:
            raise SimError("invalid_arguments")
        loading = p.get("loading_messages")
        if isinstance(loading, list) and len(loading) > MAX_LOADING_MESSAGES:
            raise SimError("invalid_arguments")
        self._channel(channel)
        self.statuses.append({"channel_id": channel, "thread_ts": thread_ts, "status": str(p["status"])})
        return {}

    def _m_assistant_threads_setSuggestedPrompts(self, p: JSON) -> JSON:
        channel, thread_ts = self._assistant_thread(p)
        prompts = p.get("prompts")
        if not isinstance(prompts, list) or not 1 <= len(prompts) <= 4 or not all(
                isinstance(x, dict) and x.get("title") and x.get("message") for x in prompts):
            raise SimError("invalid_arguments")
        self.suggested_prompts.append({"channel_id": channel, "thread_ts": thread_ts, "prompts": prompts,
                                       "title": p.get("title")})
        return {}

    def _m_assistant_threads_setTitle(self, p: JSON) -> JSON:
        channel, thread_ts = self._assistant_thread(p)
        if not p.get("title"):
            raise SimError("invalid_arguments")
        self.titles[(channel, thread_ts)] = str(p["title"])
        return {}

    def _assistant_thread(self, p: JSON) -> tuple[str, str]:
        channel, thread_ts = _str(p.get("channel_id")), _str(p.get("thread_ts"))
        if channel is None:
            raise SimError("channel_not_found")
        if thread_ts is None:
            raise SimError("invalid_thread_ts")
        self._channel(channel)
        return channel, thread_ts

    def _m_conversations_info(self, p: JSON) -> JSON:
        channel = str(p.get("channel") or "")
        if channel not in self.channels:
            raise SimError("channel_not_found")
        kind = channel[:1]
        shared = channel in self.ext_shared
        return {"channel": {
            "id": channel, "name": self.channel_names.get(channel, channel), "is_channel": kind == "C",
            "is_group": kind == "G", "is_im": kind == "D", "is_private": kind in ("G", "D"),
            "is_member": self.is_member(channel), "is_ext_shared": shared, "is_shared": shared,
            "is_org_shared": False, "is_archived": False, "created": 1_700_000_000}}

    # ---- users and history -----------------------------------------------------------------

    def _m_users_info(self, p: JSON) -> JSON:
        user = self.users.get(str(p.get("user") or ""))
        if user is None:
            raise SimError("user_not_found")
        with_email = self.scopes is None or "users:read.email" in self.scopes
        return {"user": user.to_api(self.team_id, with_email=with_email)}

    def _m_conversations_replies(self, p: JSON) -> JSON:
        channel = str(p.get("channel") or "")
        if channel not in self.channels:
            raise SimError("channel_not_found")
        ts = str(p.get("ts") or "")
        msg = self.message(channel, ts)
        if msg is None:
            raise SimError("thread_not_found")
        thread = [msg] if msg.is_reply else self.thread(channel, ts)
        out = [m.to_api() for m in thread]
        if str(p.get("include_all_metadata", "")).lower() not in ("1", "true"):
            for m in out:  # as Slack: message metadata only on request
                m.pop("metadata", None)
        replies = thread[1:]
        if replies:
            out[0].update(reply_count=len(replies), latest_reply=replies[-1].ts,
                          reply_users=sorted({r.user for r in replies if r.user}))
        # As Slack: at most `limit` messages (default and cap 1000) a page, the rest by cursor.
        limit = min(max(int(p.get("limit") or 1000), 1), 1000)
        start = int(str(p.get("cursor") or "0").removeprefix("off:") or 0)
        page, more = out[start:start + limit], start + limit < len(out)
        cursor = f"off:{start + limit}" if more else ""
        return {"messages": page, "has_more": more, "response_metadata": {"next_cursor": cursor}}

    # ---- files (files_upload_v2: get URL → POST bytes → complete) --------------------------

    def upload_url(self, file_id: str) -> str:
        raise NotImplementedError  # the server knows its own address

    def _m_files_getUploadURLExternal(self, p: JSON) -> JSON:
        if not p.get("filename") or not str(p.get("length", "")).isdigit():
            raise SimError("invalid_arguments")
        f = SlackFile(id=self._next_id("F"), name=str(p["filename"]), length=int(p["length"]),
                      alt_txt=_str(p.get("alt_txt")))
        self.files[f.id] = f
        return {"upload_url": self.upload_url(f.id), "file_id": f.id}

    def _m_files_completeUploadExternal(self, p: JSON) -> JSON:
        entries = p.get("files")
        if not isinstance(entries, list) or not entries:
            raise SimError("invalid_arguments")
        done: list[SlackFile] = []
        for entry in entries:
            f = self.files.get(str(entry.get("id", "")) if isinstance(entry, dict) else "")
            if f is None or f.content is None:
                raise SimError("file_not_found")
            f.title = entry.get("title") or f.name
            done.append(f)
        channel = _str(p.get("channel_id")) or (_str(p.get("channels")) or "").split(",")[0] or None
        if channel:
            thread_ts = _str(p.get("thread_ts"))
            msg = self._post(channel, str(p.get("initial_comment") or ""), None, thread_ts)
            for f in done:
                f.channel, f.thread_ts = channel, thread_ts
            msg.files.extend(done)
        return {"files": [f.to_api() for f in done]}


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _content(p: JSON, *, required: bool) -> tuple[str, list[JSON]]:
    blocks = p.get("blocks") or []
    if not isinstance(blocks, list):
        raise SimError("invalid_blocks_format")
    if len(blocks) > MAX_BLOCKS:
        raise SimError("invalid_blocks")
    text = str(p.get("text") or p.get("markdown_text") or "")
    if len(text) > MAX_TEXT or len(str(p.get("markdown_text") or "")) > MAX_MARKDOWN:
        raise SimError("msg_too_long")
    if required and not text and not blocks and not p.get("attachments"):
        raise SimError("no_text")
    return text, blocks
