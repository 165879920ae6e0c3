"""Prometheus results → what the model reads: per-series stats, top-k, a series cap, ≤ N points.

Before anything is summarized, series whose `namespace` label is outside the scope are dropped
(second layer behind the PromQL enforcer). A series with no namespace label is kept: for a
scoped job the enforcer already restricted every selector, so such a series can only be an
aggregate or a relabelling of in-scope data; node-level raw series never reach it.

Each item carries `namespace` only when the series has that label, so the router's generic
filter checks it again; values that are not finite (NaN, ±Inf) become null (not JSON numbers).

Range data is put on one shared time grid (the query's start + k·step, which is where
Prometheus evaluates), bucketed to ≤ `max_points`: the output lists the bucket timestamps once
and each series' values in the same order — half the tokens of [ts, value] pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kernel.scope import EffectiveScope
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
    raw = {"min": min(values), "max": max(values), "avg": sum(values) / len(values), "last": last}
    return {k: _round(v) for k, v in raw.items()}


def _round(v: float | None) -> float | None:
    """6 significant digits: plenty for the model, and fewer tokens."""
    return None if v is None else float(f"{v:.6g}")


@dataclass(frozen=True)
class Grid:
    """Evaluation timestamps of a range query, bucketed to at most `max_points`."""

    start: float
    step: float
    count: int
    max_points: int

    @classmethod
    def of(cls, start: float, end: float, step: float, max_points: int) -> Grid:
        return cls(start, step, math.floor((end - start) / step + 1e-9) + 1, max_points)

    @property
    def bucket(self) -> int:
        return max(1, math.ceil(self.count / self.max_points))

    def timestamps(self) -> list[float]:
        """The last grid time of each bucket."""
        n_buckets = math.ceil(self.count / self.bucket)
        return [self.start + min((b + 1) * self.bucket, self.count) * self.step - self.step
                for b in range(n_buckets)]

    def values(self, points: list[Point]) -> list[float | None]:
        """Bucket means of `points` (None where a bucket has no sample); stats use raw data."""
        n_buckets = math.ceil(self.count / self.bucket)
        sums = [0.0] * n_buckets
        counts = [0] * n_buckets
        for ts, v in points:
            k = round((ts - self.start) / self.step)
            if v is None or not 0 <= k < self.count:
                continue
            sums[k // self.bucket] += v
            counts[k // self.bucket] += 1
        return [_round(s / c) if c else None for s, c in zip(sums, counts, strict=True)]


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
    grid: Grid | None = None,
    max_series: int = DEFAULT_MAX_SERIES,
) -> tuple[dict[str, Any], list[Series]]:
    """(tool output, the shown series on the bucketed grid — for the graph).

    With a `grid` (range queries) the output has `timestamps` and each series `values`."""
    visible = in_scope(series, scope)
    shown, truncated = top(visible, max_series)
    items: list[dict[str, Any]] = []
    graphed: list[Series] = []
    stamps = grid.timestamps() if grid is not None else []
    for s in shown:
        item: dict[str, Any] = {"labels": s.labels, "stats": stats(s.points)}
        if "namespace" in s.labels:
            item["namespace"] = s.labels["namespace"]
        if grid is not None:
            values = grid.values(s.points)
            item["values"] = values
            graphed.append(Series(s.labels, list(zip(stamps, values, strict=True))))
        items.append(item)
    out: dict[str, Any] = {
        "query_sent": query_sent,
        "result_type": result_type,
        "series_total": len(visible),
        "series": items,
        "truncated": truncated,
    }
    if grid is not None:
        out["timestamps"] = [int(t) if float(t).is_integer() else t for t in stamps]
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
