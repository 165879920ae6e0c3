"""Prometheus results → what the model reads: per-series stats, top-k, a series cap, ≤ N points.

Before anything is summarized, series whose `namespace` label is outside the scope are dropped
(second layer behind the PromQL enforcer). A series with no namespace label is kept: for a
scoped job the enforcer already restricted every selector, so such a series can only be an
aggregate or a relabelling of in-scope data; node-level raw series never reach it.

Each item carries `namespace` only when the series has that label, so the router's generic
filter checks it again; values that are not finite (NaN, ±Inf) become null (not JSON numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from app.identity.scope import EffectiveScope
from tools.prometheus import messages

DEFAULT_MAX_SERIES = 20
DEFAULT_MAX_POINTS = 100

Point = tuple[float, float | None]


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[Point]


def _value(raw: Any) -> float | None:
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def parse_series(raw: list[Any]) -> list[Series]:
    """`data.result` of a vector or matrix (instant or range) as uniform series."""
    out: list[Series] = []
    for item in raw:
        labels = {str(k): str(v) for k, v in dict(item.get("metric") or {}).items()}
        pairs = item.get("values") or ([item["value"]] if "value" in item else [])
        out.append(Series(labels, [(float(ts), _value(v)) for ts, v in pairs]))
    return out


def in_scope(series: list[Series], scope: EffectiveScope) -> list[Series]:
    return [s for s in series if "namespace" not in s.labels or scope.allows(s.labels["namespace"])]


def stats(points: list[Point]) -> dict[str, float | None]:
    values = [v for _, v in points if v is not None]
    if not values:
        return {"min": None, "max": None, "avg": None, "last": None}
    last = next((v for _, v in reversed(points) if v is not None), None)
    return {"min": min(values), "max": max(values), "avg": sum(values) / len(values), "last": last}


def downsample(points: list[Point], max_points: int) -> list[Point]:
    """At most `max_points` points: bucket means (timestamps at bucket ends); stats use raw data."""
    if len(points) <= max_points:
        return points
    size = math.ceil(len(points) / max_points)
    out: list[Point] = []
    for i in range(0, len(points), size):
        bucket = points[i : i + size]
        vals = [v for _, v in bucket if v is not None]
        out.append((bucket[-1][0], sum(vals) / len(vals) if vals else None))
    return out


def top(series: list[Series], max_series: int) -> tuple[list[Series], bool]:
    """The `max_series` series with the highest last value (missing last values sort last)."""

    def key(s: Series) -> tuple[int, float]:
        last = stats(s.points)["last"]
        return (0, -last) if last is not None else (1, 0.0)

    ranked = sorted(series, key=key)
    return ranked[:max_series], len(ranked) > max_series


def summarize(
    series: list[Series],
    *,
    scope: EffectiveScope,
    query_sent: str,
    result_type: str,
    with_points: bool,
    max_series: int = DEFAULT_MAX_SERIES,
    max_points: int = DEFAULT_MAX_POINTS,
) -> tuple[dict[str, Any], list[Series]]:
    """(tool output, the shown series downsampled — for the graph)."""
    visible = in_scope(series, scope)
    shown, truncated = top(visible, max_series)
    items: list[dict[str, Any]] = []
    graphed: list[Series] = []
    for s in shown:
        item: dict[str, Any] = {"labels": s.labels, "stats": stats(s.points)}
        if "namespace" in s.labels:
            item["namespace"] = s.labels["namespace"]
        if with_points:
            pts = downsample(s.points, max_points)
            item["points"] = [[ts, v] for ts, v in pts]
            graphed.append(Series(s.labels, pts))
        items.append(item)
    out: dict[str, Any] = {
        "query_sent": query_sent,
        "result_type": result_type,
        "series_total": len(visible),
        "series": items,
        "truncated": truncated,
    }
    if truncated:
        out["hint"] = messages.TRUNCATED_HINT.format(total=len(visible), shown=len(shown))
    return out, graphed


def scalar(raw: list[Any], *, query_sent: str, result_type: str) -> dict[str, Any]:
    """A scalar or string result: one value, no series."""
    value: Any = raw[1] if len(raw) == 2 else None
    if result_type == "scalar":
        value = _value(value)
    return {
        "query_sent": query_sent,
        "result_type": result_type,
        "series_total": 0,
        "series": [],
        "truncated": False,
        "value": value,
    }
