"""Scenario time for the Kubernetes simulator.

Scenarios are written at a fixed moment (`SCENARIO_NOW`, or a scenario's own `now:`), so tests are
deterministic. For `aiops demo` a live simulator shifts every timestamp it serves — RFC 3339 fields
and the timestamp that starts a log line — by (real now - scenario now), so time-windowed checks
("restarted in the last hour") behave as they would on a real cluster.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

SCENARIO_NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z")


def parse(value: str) -> datetime | None:
    m = _STAMP.match(value)
    return datetime.fromisoformat(m[1]).replace(tzinfo=UTC) if m else None


def shift_text(text: str, delta: timedelta) -> str:
    """Shift a leading RFC 3339 timestamp (a field value, or the start of a log line)."""
    m = _STAMP.match(text)
    if not m or not delta:
        return text
    moved = datetime.fromisoformat(m[1]).replace(tzinfo=UTC) + delta
    return moved.strftime("%Y-%m-%dT%H:%M:%SZ") + text[m.end() :]


def shift(value: Any, delta: timedelta) -> Any:
    """A copy of a JSON value with every leading timestamp in its strings shifted."""
    if not delta:
        return value
    if isinstance(value, str):
        return shift_text(value, delta)
    if isinstance(value, dict):
        return {k: shift(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [shift(v, delta) for v in value]
    return value
