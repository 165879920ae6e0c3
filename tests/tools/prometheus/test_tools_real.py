"""The three Prometheus tools against the real Prometheus fixture, as a user of each scope sees them."""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib.image
import promql_parser as pp
import pytest

from kernel.errors import BackendError, SchemaInvalid, ScopeDenied, UnsafeQuery
from kernel.scope import EffectiveScope
from tests.fixtures.prometheus import BIG_LABEL, INJECTION_NOTE, MANY_SERIES, QUOTE_NOTE, PrometheusServer
from tests.tools.prometheus.scopes import make_scope
from tools.base import ToolContext
from tools.prometheus.client import PrometheusClient
from tools.prometheus.enforce import selectors
from tools.prometheus.printer import quote, selector_matchers
from tools.prometheus.tools import PrometheusAlertsTool, PrometheusQueryTool, PrometheusRangeQueryTool

pytestmark = pytest.mark.prometheus

VIEWER_A = make_scope("viewer", namespaces={"team-a"})
ANALYST_AB = make_scope("analyst", namespaces={"team-a", "team-b"})
ADMIN = make_scope("admin")
ADMIN_IN_TEAM_B_CHANNEL = make_scope("admin", channel={"team-b"})
BRIEF_ESCAPE = r'up{job="x\",namespace=\"a\"} or up{namespace=\"kube-system\"} or up{job=\""}'


def ctx(scope: EffectiveScope) -> ToolContext:
    return ToolContext(scope=scope, job_id="job-1")


async def instant(
    client: PrometheusClient, scope: EffectiveScope, query: str, **kw: object
) -> dict[str, Any]:
    return await PrometheusQueryTool(client=client)._invoke({"query": query, **kw}, ctx(scope))


def pods(out: dict[str, Any]) -> set[tuple[str | None, str | None]]:
    return {(s["labels"].get("namespace"), s["labels"].get("pod")) for s in out["series"]}


async def test_viewer_sees_only_own_namespace_and_no_node_series(prom_client: PrometheusClient) -> None:
    out = await instant(prom_client, VIEWER_A, "up")
    assert pods(out) == {("team-a", "web-1"), ("team-a", "web-2")}
    assert all(s["namespace"] == "team-a" for s in out["series"])
    assert 'namespace=~"team-a"' in out["query_sent"]
    assert (await instant(prom_client, VIEWER_A, "node_load1"))["series"] == []


async def test_admin_sees_every_namespace_and_node_series(prom_client: PrometheusClient) -> None:
    out = await instant(prom_client, ADMIN, "up")
    assert {ns for ns, _ in pods(out)} == {"team-a", "team-b", "kube-system", "a.b", "axb", None}
    assert out["query_sent"] == "up"
    nodes = [s for s in out["series"] if "namespace" not in s]
    assert {s["labels"]["instance"] for s in nodes} == {"node-1", "node-2"}


async def test_admin_in_a_scoped_channel_is_restricted_like_anyone(prom_client: PrometheusClient) -> None:
    out = await instant(prom_client, ADMIN_IN_TEAM_B_CHANNEL, "up")
    assert pods(out) == {("team-b", "api-1")}


async def test_aggregates_cover_only_in_scope_data(prom_client: PrometheusClient) -> None:
    mine = await instant(prom_client, VIEWER_A, "sum(http_requests_total)")
    truth = await instant(prom_client, ADMIN, 'sum(http_requests_total{namespace="team-a"})')
    everything = await instant(prom_client, ADMIN, "sum(http_requests_total)")
    assert mine["series"][0]["stats"]["last"] == truth["series"][0]["stats"]["last"]
    assert mine["series"][0]["stats"]["last"] < everything["series"][0]["stats"]["last"]
    assert (await instant(prom_client, VIEWER_A, "count(node_load1)"))["series"] == []


async def test_namespace_matchers_intersect_on_the_real_server(prom_client: PrometheusClient) -> None:
    assert pods(await instant(prom_client, VIEWER_A, 'up{namespace=~"team-.*"}')) == {
        ("team-a", "web-1"), ("team-a", "web-2")
    }
    with pytest.raises(ScopeDenied, match="none of your namespaces"):  # not a silent empty result
        await instant(prom_client, VIEWER_A, 'up{namespace!="team-a"}')
    assert (await instant(prom_client, VIEWER_A, 'up{namespace=~".*"}'))["series"] != []
    with pytest.raises(ScopeDenied, match="team-b"):
        await instant(prom_client, VIEWER_A, 'up{namespace="team-b"}')


async def test_namespace_regex_is_escaped(prom_client: PrometheusClient) -> None:
    # `a.b` unescaped would also match the namespace `axb`
    out = await instant(prom_client, make_scope("viewer", namespaces={"a.b"}), "up")
    assert pods(out) == {("a.b", "dot-1")}


async def test_brief_escape_string_returns_nothing_from_kube_system(prom_client: PrometheusClient) -> None:
    out = await instant(prom_client, VIEWER_A, BRIEF_ESCAPE)
    assert all(s["labels"].get("namespace") != "kube-system" for s in out["series"])
    assert out["series"] == []  # the whole payload is one (non-matching) job value
    (sel,) = selectors(pp.parse(out["query_sent"]))
    assert ("=~", "namespace", "team-a") in selector_matchers(sel)
    # and for an admin the string is still the single selector it really is
    admin = await instant(prom_client, ADMIN, BRIEF_ESCAPE)
    assert admin["series"] == []


async def test_escaped_values_mean_the_same_to_prometheus(prom_client: PrometheusClient) -> None:
    # Our printer's escaping, read back by the real server: the hostile values match exactly.
    sneaky = await instant(prom_client, ADMIN, f"app_info{{note={quote(QUOTE_NOTE)}}}")
    assert pods(sneaky) == {("team-b", "sneaky")}
    evil = await instant(prom_client, ADMIN, f"app_info{{note={quote(INJECTION_NOTE)}}}")
    assert pods(evil) == {("team-a", "evil")}
    assert (await instant(prom_client, VIEWER_A, f"app_info{{note={quote(QUOTE_NOTE)}}}"))["series"] == []
    odd = "tab\there\nnewline \x01 \\ \" é 中 \u2028"
    assert (await instant(prom_client, VIEWER_A, f"up{{job={quote(odd)}}}"))["series"] == []


async def test_or_matchers_refused_before_any_request(prom_client: PrometheusClient) -> None:
    with pytest.raises(UnsafeQuery):
        await instant(prom_client, VIEWER_A, 'up{namespace="team-a" or namespace="kube-system"}')


async def test_series_cap_keeps_top_by_last_value_and_says_how_to_narrow(
    prom_client: PrometheusClient,
) -> None:
    out = await instant(prom_client, VIEWER_A, "many_series")
    assert out["series_total"] == MANY_SERIES
    assert out["truncated"] is True
    assert "topk(5" in out["hint"]
    shown = [s["labels"]["idx"] for s in out["series"]]
    assert shown == [f"{i:02d}" for i in range(MANY_SERIES - 1, MANY_SERIES - 21, -1)]
    narrow = await instant(prom_client, VIEWER_A, "topk(5, many_series)")
    assert narrow["truncated"] is False and len(narrow["series"]) == 5


async def test_long_and_hostile_label_values_reach_the_raw_result_intact(
    prom_client: PrometheusClient,
) -> None:
    # Truncating to 256 chars and flagging injections is the router's job; the tool passes data as-is.
    out = await instant(prom_client, VIEWER_A, "app_info")
    by_pod = {s["labels"]["pod"]: s["labels"] for s in out["series"]}
    assert by_pod["web-1"]["description"] == BIG_LABEL
    assert by_pod["evil"]["note"] == INJECTION_NOTE
    assert "sneaky" not in by_pod  # team-b's series whose label value *says* team-a


async def test_instant_query_at_a_given_time(
    prom_client: PrometheusClient, prometheus_server: PrometheusServer
) -> None:
    at = prometheus_server.start + 600
    out = await instant(prom_client, VIEWER_A, 'http_requests_total{pod="web-1"}', time=at)
    assert out["series"][0]["stats"]["last"] == 10 * 1 * 60.0
    assert out["time"].endswith("Z")


async def test_scalar_results(prom_client: PrometheusClient) -> None:
    out = await instant(prom_client, VIEWER_A, "scalar(count(up))")
    assert out["result_type"] == "scalar" and out["value"] == 2


async def test_backend_errors_name_the_query_and_the_server_error(prom_client: PrometheusClient) -> None:
    with pytest.raises(BackendError) as err:
        await instant(prom_client, VIEWER_A, "up + on(job) up")
    msg = str(err.value)
    assert 'up{namespace=~"team-a"} + on(job) up{namespace=~"team-a"}' in msg
    assert "many-to-many" in msg or "duplicate" in msg


async def test_unreachable_prometheus_is_a_backend_error_without_the_url() -> None:
    client = PrometheusClient(url="http://user:s3cret@127.0.0.1:9", timeout_s=2)
    try:
        with pytest.raises(BackendError) as err:
            await instant(client, VIEWER_A, "up")
    finally:
        client.close()
    assert "s3cret" not in str(err.value) and "127.0.0.1" not in str(err.value)


async def test_range_query_is_capped_at_100_points_and_attaches_a_png(
    prom_client: PrometheusClient, prometheus_server: PrometheusServer
) -> None:
    tool = PrometheusRangeQueryTool(client=prom_client)
    c = ctx(VIEWER_A)
    args = {"query": "rate(http_requests_total[5m])", "start": prometheus_server.start,
            "end": prometheus_server.end, "step": "15s"}  # 481 raw points per series
    out = await tool._invoke(args, c)
    assert {s["namespace"] for s in out["series"]} == {"team-a"}
    assert len(out["series"]) == 2
    assert 50 <= len(out["timestamps"]) <= 100
    assert out["timestamps"][-1] <= prometheus_server.end
    for s in out["series"]:
        assert len(s["values"]) == len(out["timestamps"])
        assert s["stats"]["min"] is not None and s["stats"]["max"] >= s["stats"]["min"]
    web2 = next(s for s in out["series"] if s["labels"]["pod"] == "web-2")
    assert web2["stats"]["last"] == pytest.approx(2.0)  # 2 * 60 per minute
    (art,) = c.artifacts
    assert art.mime == "image/png" and art.filename == out["graph"]
    assert art.content.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = matplotlib.image.imread(io.BytesIO(art.content), format="png")
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100


async def test_range_query_default_step_gives_at_most_100_points(
    prom_client: PrometheusClient, prometheus_server: PrometheusServer
) -> None:
    out = await PrometheusRangeQueryTool(client=prom_client)._invoke(
        {"query": "up", "start": "now-2h", "end": "now"}, ctx(ADMIN)
    )
    assert out["step_s"] >= 72
    assert len(out["timestamps"]) <= 100
    assert all(len(s["values"]) == len(out["timestamps"]) for s in out["series"])
    assert any("namespace" not in s for s in out["series"])  # admin sees node-level series


async def test_range_query_rejects_bad_windows(prom_client: PrometheusClient) -> None:
    tool = PrometheusRangeQueryTool(client=prom_client)
    with pytest.raises(SchemaInvalid, match="after"):
        await tool._invoke({"query": "up", "start": "now", "end": "now-1h"}, ctx(VIEWER_A))
    with pytest.raises(SchemaInvalid, match="7-day"):
        await tool._invoke({"query": "up", "start": "now-30d", "end": "now"}, ctx(VIEWER_A))
    with pytest.raises(SchemaInvalid, match="yesterday"):
        await tool._invoke({"query": "up", "start": "yesterday", "end": "now"}, ctx(VIEWER_A))


async def test_alerts_are_filtered_by_namespace(prom_client: PrometheusClient) -> None:
    tool = PrometheusAlertsTool(client=prom_client)

    async def names(scope: EffectiveScope, **args: str) -> set[str]:
        out = await tool._invoke(args, ctx(scope))
        assert out["total"] == len(out["alerts"])
        return {a["name"] for a in out["alerts"]}

    assert await names(VIEWER_A) == {"TeamAHighErrorRate", "TeamAInjected"}
    assert await names(ANALYST_AB) == {"TeamAHighErrorRate", "TeamAInjected", "TeamBDown"}
    assert await names(ADMIN) == {"TeamAHighErrorRate", "TeamAInjected", "TeamBDown", "NodeLoadHigh"}
    assert await names(ADMIN, namespace="team-b") == {"TeamBDown"}
    assert await names(ADMIN_IN_TEAM_B_CHANNEL) == {"TeamBDown"}
    with pytest.raises(ScopeDenied, match="team-b"):
        await tool._invoke({"namespace": "team-b"}, ctx(VIEWER_A))


async def test_alerts_carry_severity_and_annotations(prom_client: PrometheusClient) -> None:
    out = await PrometheusAlertsTool(client=prom_client)._invoke({}, ctx(ADMIN))
    first = out["alerts"][0]
    assert first["name"] == "TeamBDown" and first["severity"] == "critical" and first["state"] == "firing"
    assert first["summary"] == "team-b api is down"
    assert re.match(r"\d{4}-\d\d-\d\dT", first["active_at"])
