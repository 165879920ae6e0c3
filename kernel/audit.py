"""Audit event model (the seed's `audit_events` row) and the sink protocol.

What may go in a row (seed): PromQL strings and hashes yes; metric values, K8s content,
raw answers, credentials never. Builders of events pass hashes (`sha256_hex`) instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from uuid import UUID, uuid4

EventType = Literal[
    "query", "tool_call", "recommendation", "auth_failure", "security", "identity", "admin", "retention"
]


def sha256_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def canonical_hash(obj: Any) -> str:
    """Stable hash of a JSON-able value (sorted keys, no whitespace)."""
    return sha256_hex(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str))


@dataclass
class AuditEvent:
    event_type: EventType
    user_id: str
    session_id: str | None = None
    user_message: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    response_hash: str | None = None
    namespace: str | None = None
    ip_address: str | None = None
    failure_reason: str | None = None
    latency_ms: int | None = None
    token_count: int | None = None
    id: UUID = field(default_factory=uuid4)


class AuditSink(Protocol):
    """Where audit events go. The implementation stamps agent_version and timestamp."""

    async def write(self, event: AuditEvent) -> UUID: ...


class GatedAuditSink(AuditSink, Protocol):
    """An audit sink that is also the blocklist's gate (tools/blocklist.py): a tool result's row
    is written only if nothing outside what the caller matched against is blocked right then."""

    async def write_unless_blocked(
        self, event: AuditEvent, *, prefix: str, known: frozenset[str]
    ) -> Sequence[Mapping[str, Any]] | None:
        """Write `event` if every value digest blocked now under `prefix` is in `known`, and
        return None. Otherwise write nothing and return the live set: rows of `digest`, `expires`
        (epoch seconds) and `db_now` (the database's time), as the blocklist learns them."""
        ...
