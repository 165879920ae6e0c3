"""Summaries, time parsing, graph rendering and error extraction without a server."""

from __future__ import annotations

import io

import matplotlib.image
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.errors import SchemaInvalid
from tests.tools.prometheus.scopes import make_scope
from tools.prometheus.client import server_error
from tools.prometheus.graph import legend_label, render_png
from tools.prometheus.summarize import Grid, Series, parse_series, scalar, stats, summarize, top
from tools.prometheus.timeparse import parse_step, parse_time

VIEWER_A = make_scope("viewer", namespaces={"team-a"})


def test_grid_buckets_to_at_most_max_points_on_prometheus_timestamps() -> None:
    grid = Grid.of(1000, 2000, 10, 100)  # 101 evaluation times
    stamps = grid.timestamps()
    assert len(stamps) <= 100 and stamps[-1] == 2000 and stamps[0] == 1010
    points: list[tuple[float, float | None]] = [
        (1000.0 + 10 * k, float(k)) for k in range(101) if k not in (50, 51)
    ]
    values = grid.values(points)
    assert len(values) == len(stamps)
    assert values[0] == 0.5 and values[25] is None and values[-1] == 100


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 600), st.integers(2, 200))
def test_grid_never_exceeds_max_points(n: int, step: int, max_points: int) -> None:
    grid = Grid.of(0, (n - 1) * step, step, max_points)
    assert grid.count == n
    stamps = grid.timestamps()
    assert 1 <= len(stamps) <= max_points and stamps[-1] == (n - 1) * step
    assert len(grid.values([(float(k * step), 1.0) for k in range(n)])) == len(stamps)


def test_stats_skip_missing_and_non_finite_values() -> None:
    raw = [[1, "1"], [2, "NaN"], [3, "+Inf"], [4, "3"], [5, "x"]]
    (s,) = parse_series([{"metric": {"a": "b"}, "values": raw}])
    assert s.points[1][1] is None and s.points[2][1] is None
    assert stats(s.points) == {"min": 1.0, "max": 3.0, "avg": 2.0, "last": 3.0}
    assert stats([(1.0, None)]) == {"min": None, "max": None, "avg": None, "last": None}


def test_top_orders_by_last_value_and_puts_empty_series_last() -> None:
    series = [Series({"i": str(i)}, [(0.0, float(i))]) for i in range(5)] + [Series({"i": "none"}, [])]
    shown, truncated = top(series, 3)
    assert [s.labels["i"] for s in shown] == ["4", "3", "2"] and truncated
    shown, truncated = top(series, 10)
    assert shown[-1].labels["i"] == "none" and not truncated


def test_out_of_scope_series_are_dropped_before_counting_and_aggregates_kept() -> None:
    series = [
        Series({"namespace": "team-a", "pod": "p"}, [(0.0, 1.0)]),
        Series({"namespace": "team-b", "pod": "q"}, [(0.0, 9.0)]),
        Series({}, [(0.0, 5.0)]),  # e.g. sum(...) over the (enforced) in-scope selectors
    ]
    out, _ = summarize(series, scope=VIEWER_A, query_sent="q", result_type="vector")
    assert out["series_total"] == 2
    assert [s.get("namespace") for s in out["series"]] == [None, "team-a"]
    assert "team-b" not in str(out)


def test_summary_values_are_rounded_for_tokens() -> None:
    series = [Series({"namespace": "team-a"}, [(0.0, 1 / 3)])]
    out, _ = summarize(series, scope=VIEWER_A, query_sent="q", result_type="vector")
    assert out["series"][0]["stats"]["last"] == 0.333333


def test_scalar_results() -> None:
    assert scalar([1.0, "2.5"], query_sent="q", result_type="scalar")["value"] == 2.5
    assert scalar([1.0, "NaN"], query_sent="q", result_type="scalar")["value"] is None
    assert scalar([1.0, "hi"], query_sent="q", result_type="string")["value"] == "hi"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("now", 10_000.0), ("now-1h", 6_400.0), ("now - 1h30m", 4_600.0), ("now+5m", 10_300.0),
     ("1700000000", 1_700_000_000.0), (1_700_000_000.5, 1_700_000_000.5),
     ("2024-05-01T12:00:00Z", 1_714_564_800.0), ("2024-05-01T14:00:00+02:00", 1_714_564_800.0)],
)
def test_times(value: str | float, expected: float) -> None:
    assert parse_time(value, now=10_000.0) == expected


@pytest.mark.parametrize("value", ["yesterday", "now-", "now-1x", "", float("nan"), True])
def test_bad_times_name_the_value(value: object) -> None:
    with pytest.raises(SchemaInvalid, match="Cannot read time"):
        parse_time(value, now=0.0)  # type: ignore[arg-type]


def test_steps() -> None:
    assert parse_step("30s") == 30 and parse_step("5m") == 300 and parse_step(15) == 15
    assert parse_step("1.5") == 1.5
    bads: list[str | float] = ["0", "-1s", "x", 0, float("inf")]
    for bad in bads:
        with pytest.raises(SchemaInvalid, match="step"):
            parse_step(bad)


def test_graph_is_a_valid_png_even_with_gaps_and_dollar_signs() -> None:
    series = [
        Series(
            {"namespace": "team-a", "pod": f"web-{i}"},
            [(1_700_000_000.0 + 60 * k, float(k * i) or None) for k in range(50)],
        )
        for i in range(12)
    ]
    png = render_png(series, 'label_replace(up, "a", "$1", "b", "(.*)")')
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert matplotlib.image.imread(io.BytesIO(png), format="png").shape[2] in (3, 4)
    assert legend_label({"namespace": "team-a", "pod": "web-1", "job": "x"}) == "team-a/web-1"
    assert legend_label({"__name__": "up", "le": "0.5"}) == "le=0.5"
    assert legend_label({"pod": "$x$"}) == r"\$x\$"


def test_server_error_text_is_extracted_from_the_client_exception() -> None:
    body = b'{"status":"error","errorType":"bad_data","error":"parse error: unexpected \\"}\\""}'
    msg = f"HTTP Status Code 400 ({body!r})"
    assert server_error(msg) == 'bad_data: parse error: unexpected "}"'
    assert server_error("HTTP Status Code 502 (b'<html>bad gateway</html>')") == "HTTP Status Code 502"
