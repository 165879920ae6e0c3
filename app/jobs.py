"""A unit of work on the Redis Stream and its idempotency record.

The job id is the idempotency key: Slack `event_id` for events, the slash command's
`trigger_id`, and for alerts `groupKey` + status + hash of the alert fingerprints.
The query audit event id is derived from it (uuid5) so a reclaimed job can never write a
second `query` row nor show a different audit reference.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import orjson

JobKind = Literal["mention", "dm", "command", "alert", "action", "api", "scheduled", "assistant"]

_AUDIT_NS = uuid.UUID("5b0f7a52-4b8e-4a43-9d67-3f1f2a0c9e11")
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


@dataclass
class Job:
    job_id: str
    kind: JobKind
    channel_id: str
    user_id: str
    """Slack user id ("alertmanager" for alert jobs)."""
    text: str
    team_id: str | None = None
    thread_ts: str | None = None
    """Thread to answer in; None → answer in a thread under `event_ts`."""
    event_ts: str | None = None
    command: str | None = None
    """Slash subcommand (`whoami`, `login`, …) or None for a question."""
    alert: dict[str, Any] | None = None
    response_url: str | None = None
    ip_address: str | None = None
    received_at: float = field(default_factory=time.time)
    claims: dict[str, Any] | None = None
    """API jobs only: the claims of the bearer token the API verified (never the token itself)."""
    namespace: str | None = None
    """API jobs only: narrow the asker's scope to this namespace (`aiops ask --namespace`)."""
    redacted: list[str] | None = None
    """Kinds of credentials removed from `text` on enqueue (app/credentials.py)."""

    @property
    def audit_id(self) -> uuid.UUID:
        return uuid.uuid5(_AUDIT_NS, self.job_id)

    @property
    def session_id(self) -> str:
        return f"{self.channel_id}:{self.thread_ts or self.event_ts or self.job_id}"

    def to_fields(self) -> dict[str, str]:
        return {"job": json.dumps(asdict(self), separators=(",", ":"))}

    def stream_json(self) -> bytes:
        """The stream entry's JSON, without the fields left at None (`Job(**data)` restores
        them): the ack path writes one per event, and most of a mention's fields are None.
        orjson (a few times faster); the stdlib for what orjson refuses (e.g. huge integers)."""
        fields = {k: v for k, v in vars(self).items() if v is not None}
        try:
            return orjson.dumps(fields)
        except TypeError:
            return _ENCODE(fields).encode()

    @classmethod
    def from_fields(cls, fields: dict[str, str] | dict[bytes, bytes]) -> Job:
        raw = fields.get("job") or fields.get(b"job")  # type: ignore[call-overload]
        if raw is None:
            raise ValueError("stream entry without a 'job' field")
        data = json.loads(raw)
        return cls(**data)


@dataclass
class JobState:
    """What a job has already done in Slack (survives the worker)."""

    thread_ts: str | None = None
    message_ts: str | None = None
    """The answer placeholder/stream message; a reclaimed job updates it instead of posting."""
    answered: bool = False
    opening: bool = False
    """A placeholder post was attempted; after a crash, find it in the thread before posting."""
    parts: tuple[str, ...] = ()
    """Continuation messages of a long answer (ts, in order), posted after `message_ts`."""
    attached: bool = False
    """The answer's graphs were uploaded."""


class JobStateStore(Protocol):
    async def get(self, job_id: str) -> JobState: ...

    async def update(self, job_id: str, **changes: Any) -> None: ...
