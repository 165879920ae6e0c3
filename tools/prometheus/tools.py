"""`prometheus_query`, `prometheus_range_query`, `prometheus_alerts` (BRIEF §3).

Every query goes through `enforce()` with the job's scope: the string sent is one we built and
verified, and it is returned as `query_sent` so the answer (and the audit row) show the exact
PromQL. Results are summarized (tools.prometheus.summarize); range queries also attach a PNG.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from kernel.errors import SchemaInvalid, ScopeDenied
from tools.base import JSON, Artifact, Tool, ToolContext
from tools.prometheus import messages, schemas
from tools.prometheus.alerts import DEFAULT_MAX_ALERTS, scoped_alerts
from tools.prometheus.client import PrometheusClient
from tools.prometheus.enforce import enforce
from tools.prometheus.graph import render_png_async
from tools.prometheus.summarize import (
    DEFAULT_MAX_POINTS,
    DEFAULT_MAX_SERIES,
    Grid,
    parse_series,
    scalar,
    summarize,
)
from tools.prometheus.timeparse import parse_step, parse_time

MAX_RANGE_S = 7 * 24 * 3600
MAX_RAW_POINTS = 1100
"""Per series from Prometheus before downsampling (its own hard limit is 11,000)."""

Clock = Callable[[], float]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


class PrometheusQueryTool(Tool):
    name: ClassVar[str] = "prometheus_query"
    description: ClassVar[str] = (
        "Evaluate a PromQL expression at one instant (default now). Results are restricted to your "
        "namespaces and summarized: up to 20 series (highest last value first) with min/max/avg/last. "
        "Prefer aggregations (sum by (pod) (…), topk(5, …)) over raw selectors."
    )
    input_schema: ClassVar[JSON] = schemas.QUERY_INPUT
    output_schema: ClassVar[JSON] = schemas.QUERY_OUTPUT
    namespace_arg: ClassVar[str | None] = None
    audit_args: ClassVar[frozenset[str]] = frozenset({"query", "time"})
    """PromQL strings may be kept in the audit log (seed); metric values never."""
    audit_result_fields: ClassVar[frozenset[str]] = frozenset({"query_sent"})

    def __init__(
        self, *, client: PrometheusClient, max_series: int = DEFAULT_MAX_SERIES, clock: Clock = time.time
    ) -> None:
        self._client = client
        self._max_series = max_series
        self._clock = clock

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        sent = enforce(args["query"], ctx.scope.namespaces)
        at = parse_time(args["time"], now=self._clock()) if "time" in args else None
        res = await self._client.query(sent, at=at)
        out: dict[str, Any]
        if res.result_type in ("scalar", "string"):
            out = scalar(res.result, query_sent=sent, result_type=res.result_type)
        else:
            out, _ = summarize(
                parse_series(res.result),
                scope=ctx.scope,
                query_sent=sent,
                result_type=res.result_type,
                max_series=self._max_series,
            )
        if at is not None:
            out["time"] = _iso(at)
        return out


class PrometheusRangeQueryTool(Tool):
    name: ClassVar[str] = "prometheus_range_query"
    description: ClassVar[str] = (
        "Evaluate a PromQL expression over a time range (start/end: RFC 3339, unix seconds or now-1h). "
        "Restricted to your namespaces; returns up to 20 series with min/max/avg/last and at most "
        "100 points each, and attaches a graph to the thread. Range at most 7 days."
    )
    input_schema: ClassVar[JSON] = schemas.RANGE_INPUT
    output_schema: ClassVar[JSON] = schemas.RANGE_OUTPUT
    namespace_arg: ClassVar[str | None] = None
    audit_args: ClassVar[frozenset[str]] = frozenset({"query", "start", "end", "step"})
    audit_result_fields: ClassVar[frozenset[str]] = frozenset({"query_sent"})

    def __init__(
        self,
        *,
        client: PrometheusClient,
        max_series: int = DEFAULT_MAX_SERIES,
        max_points: int = DEFAULT_MAX_POINTS,
        render_graph: bool = True,
        clock: Clock = time.time,
    ) -> None:
        self._client = client
        self._max_series = max_series
        self._max_points = max_points
        self._render_graph = render_graph
        self._clock = clock

    def _window(self, args: JSON) -> tuple[float, float, float]:
        now = self._clock()
        # Whole seconds: the client sends whole seconds, and the output grid must match Prometheus's.
        start = float(math.floor(parse_time(args["start"], now=now)))
        end = float(math.ceil(parse_time(args["end"], now=now)))
        if end <= start:
            raise SchemaInvalid(messages.BAD_RANGE.format(start=_iso(start), end=_iso(end)))
        if end - start > MAX_RANGE_S:
            too_long = messages.RANGE_TOO_LONG.format(
                start=_iso(start), end=_iso(end), max_days=MAX_RANGE_S // 86400
            )
            raise SchemaInvalid(too_long)
        default_step = max(1.0, math.ceil((end - start) / (self._max_points - 1)))
        step = parse_step(args["step"]) if "step" in args else default_step
        # A finer step than asked-for points is allowed (stats use every raw point) up to a bound.
        step = max(step, math.ceil((end - start) / (MAX_RAW_POINTS - 1)))
        return start, end, step

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        sent = enforce(args["query"], ctx.scope.namespaces)
        start, end, step = self._window(args)
        raw = await self._client.query_range(sent, start=start, end=end, step_s=step)
        out, graphed = summarize(
            parse_series(raw),
            scope=ctx.scope,
            query_sent=sent,
            result_type="matrix",
            grid=Grid.of(start, end, step, self._max_points),
            max_series=self._max_series,
        )
        out.update(start=_iso(start), end=_iso(end), step_s=step, graph=None)
        if self._render_graph and graphed:
            png = await render_png_async(graphed, sent)
            filename = f"prometheus-range-{len(ctx.artifacts) + 1}.png"
            ctx.artifacts.append(Artifact(filename=filename, title=sent[:200], content=png))
            out["graph"] = filename
        return out


class PrometheusAlertsTool(Tool):
    name: ClassVar[str] = "prometheus_alerts"
    description: ClassVar[str] = (
        "List active (firing and pending) Prometheus alerts in your namespaces, most urgent first; "
        "optionally only one namespace."
    )
    input_schema: ClassVar[JSON] = schemas.ALERTS_INPUT
    output_schema: ClassVar[JSON] = schemas.ALERTS_OUTPUT
    namespace_arg: ClassVar[str | None] = "namespace"
    audit_args: ClassVar[frozenset[str]] = frozenset({"namespace"})
    long_text_fields: ClassVar[frozenset[str]] = frozenset({"summary", "description"})

    def __init__(self, *, client: PrometheusClient, max_alerts: int = DEFAULT_MAX_ALERTS) -> None:
        self._client = client
        self._max_alerts = max_alerts

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        namespace = args.get("namespace")
        if namespace is not None and not ctx.scope.allows(namespace):
            # The router checks `namespace_arg` first; this is the tool's own fail-closed check.
            raise ScopeDenied(
                messages.ALERT_NAMESPACE_OUT_OF_SCOPE.format(namespace=namespace, scope=ctx.scope.describe()),
                namespace=namespace,
            )
        alerts = scoped_alerts(await self._client.alerts(), ctx.scope, namespace=namespace)
        return {
            "alerts": alerts[: self._max_alerts],
            "total": len(alerts),
            "truncated": len(alerts) > self._max_alerts,
        }
