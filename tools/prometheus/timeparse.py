"""Times and steps as the model writes them: RFC 3339, unix seconds, or `now`, `now-1h`, `now-1h30m`."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import promql_parser as pp

from kernel.errors import SchemaInvalid
from tools.prometheus import messages

_RELATIVE = re.compile(r"now\s*(?:(?P<sign>[-+])\s*(?P<dur>[0-9a-z]+))?\Z")


def _duration_s(text: str) -> float:
    return float(pp.parse_duration(text).total_seconds())


def parse_time(value: str | float | int, *, now: float) -> float:
    """Unix seconds for `value`; `SchemaInvalid` naming the value when it cannot be read."""
    if isinstance(value, bool):
        raise SchemaInvalid(messages.BAD_TIME.format(value=value))
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise SchemaInvalid(messages.BAD_TIME.format(value=value))
        return float(value)
    text = value.strip().lower()
    try:
        m = _RELATIVE.match(text)
        if m:
            if not m.group("dur"):
                return now
            delta = _duration_s(m.group("dur"))
            return now - delta if m.group("sign") == "-" else now + delta
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            return float(text)
        dt = datetime.fromisoformat(value.strip())
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    except (ValueError, OverflowError) as exc:
        raise SchemaInvalid(messages.BAD_TIME.format(value=value)) from exc


def parse_step(value: str | float | int) -> float:
    """Step in seconds (> 0) from a number or a Prometheus duration."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        elif isinstance(value, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", value.strip()):
            seconds = float(value)
        elif isinstance(value, str):
            seconds = _duration_s(value.strip())
        else:
            raise ValueError(value)
    except (ValueError, OverflowError) as exc:
        raise SchemaInvalid(messages.BAD_STEP.format(value=value)) from exc
    if not math.isfinite(seconds) or seconds <= 0:
        raise SchemaInvalid(messages.BAD_STEP.format(value=value))
    return seconds
