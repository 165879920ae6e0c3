"""The PromQL enforcer: escaping, refusals, verification, admin pass-through (no server), and
its refusals checked against the real Prometheus."""

from __future__ import annotations

import asyncio
import re

import promql_parser as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.errors import ScopeDenied, UnsafeQuery
from tests.fixtures.prometheus import PrometheusServer
from tools.prometheus.client import PrometheusClient
from tools.prometheus.enforce import _verified, enforce, namespace_regex, parse, regex_escape, selectors
from tools.prometheus.printer import Printer, quote, selector_matchers

TEAM_A = frozenset({"team-a"})
ENFORCED_A = ("=~", "namespace", "team-a")
# BRIEF §4: the library's str() prints this back as three selectors, one of them unenforced.
BRIEF_ESCAPE = r'up{job="x\",namespace=\"a\"} or up{namespace=\"kube-system\"} or up{job=\""}'


def all_matchers(promql: str) -> list[list[tuple[str, str, str]]]:
    return [selector_matchers(vs) for vs in selectors(pp.parse(promql))]


def test_brief_escape_string_stays_one_enforced_selector() -> None:
    sent = enforce(BRIEF_ESCAPE, TEAM_A)
    matchers = all_matchers(sent)
    assert len(matchers) == 1
    assert ENFORCED_A in matchers[0]
    # the whole payload is still one job value, not extra matchers on `namespace`
    job = [v for op, n, v in matchers[0] if n == "job"]
    assert job == ['x",namespace="a"} or up{namespace="kube-system"} or up{job="']
    assert [m for m in matchers[0] if m[1] == "namespace"] == [ENFORCED_A]


def test_library_str_is_exploitable_but_our_printer_is_not() -> None:
    # The reason we print ourselves: show the library's behaviour the BRIEF warns about.
    lib = str(pp.parse(BRIEF_ESCAPE))
    assert len(selectors(pp.parse(lib))) == 3
    ours = Printer().print(pp.parse(BRIEF_ESCAPE))
    assert len(selectors(pp.parse(ours))) == 1


def test_or_matchers_are_refused() -> None:
    with pytest.raises(UnsafeQuery, match="or"):
        enforce('up{namespace="team-a" or namespace="team-b"}', TEAM_A)
    with pytest.raises(UnsafeQuery):
        enforce('sum(rate(x{a="b" or c="d"}[5m]))', None)  # admin too: it prints wrongly


def test_unknown_node_types_are_refused() -> None:
    with pytest.raises(UnsafeQuery, match="not supported"):
        Printer().print(object())
    with pytest.raises(UnsafeQuery, match="not supported"):
        Printer().print(pp.Matchers([]))


@pytest.mark.parametrize("q", ["a + fill(0) b", "a + on(b) fill_left(1) fill_right(2) c"])
def test_fill_modifier_is_refused(q: str) -> None:
    # Newer PromQL than our printer knows: refuse rather than print it without the fill.
    with pytest.raises(UnsafeQuery, match="fill"):
        enforce(q, TEAM_A)


def test_namespace_equality_outside_scope_is_a_scope_denial() -> None:
    with pytest.raises(ScopeDenied, match="kube-system") as err:
        enforce('up{namespace="kube-system"}', TEAM_A)
    assert err.value.namespace == "kube-system"
    with pytest.raises(ScopeDenied):
        enforce('sum(rate(http_requests_total{namespace="team-b"}[5m])) / 2', TEAM_A)
    with pytest.raises(ScopeDenied):
        enforce('up{namespace=""}', TEAM_A)  # "no namespace label" = node-level, admin only


def test_existing_namespace_matchers_are_kept_and_anded() -> None:
    for q in ['up{namespace=~"team-.*"}', 'up{namespace!="team-b"}', 'up{namespace!~"kube.*"}',
              'up{namespace="team-a"}']:
        (matchers,) = all_matchers(enforce(q, TEAM_A))
        (sel,) = selectors(pp.parse(q))
        original = selector_matchers(sel)
        assert matchers == [*original, ENFORCED_A]


def test_every_selector_is_enforced_in_nested_queries() -> None:
    q = (
        'sum by (pod) (rate(http_requests_total{job="web"}[5m] offset 1m)) '
        '/ on(pod) group_left() max_over_time(up[10m:1m]) '
        'or label_replace(absent(nonexistent), "dst", "$1", "src", "(.*)") '
        'unless -topk(3, {__name__=~"container_.*"} @ end())'
    )
    sent = enforce(q, frozenset({"team-a", "team-b"}))
    sels = all_matchers(sent)
    assert len(sels) == 4
    assert all(("=~", "namespace", "team-a|team-b") in m for m in sels)


def test_empty_scope_is_refused() -> None:
    with pytest.raises(ScopeDenied):
        enforce("up", frozenset())


def test_admin_query_is_reprinted_unchanged_in_meaning() -> None:
    q = 'sum by (namespace) (rate(http_requests_total{job="web"}[5m]))'
    assert enforce(q, None) == q
    assert all_matchers(enforce("node_load1", None)) == [[("=", "__name__", "node_load1")]]


def test_syntax_errors_name_the_query() -> None:
    with pytest.raises(UnsafeQuery, match=r"up\{"):
        enforce("sum(up{", TEAM_A)


def test_namespace_values_are_regex_escaped() -> None:
    assert regex_escape("a.b") == r"a\.b"
    assert namespace_regex({"team-b", "a.b", "x|y"}) == r"a\.b|team-b|x\|y"
    (matchers,) = all_matchers(enforce("up", frozenset({"a.b"})))
    assert ("=~", "namespace", r"a\.b") in matchers


def test_verifier_refuses_an_unenforced_string() -> None:
    # The last line of defence works on its own: a printed string missing the matcher is refused.
    original = parse("up or node_load1")
    with pytest.raises(UnsafeQuery, match="verified"):
        _verified('up{namespace=~"team-a"} or node_load1', original, ENFORCED_A)
    with pytest.raises(UnsafeQuery, match="verified"):
        _verified('up{namespace=~"team-a"}', original, ENFORCED_A)  # a selector went missing
    assert _verified('up{namespace=~"team-a"} or node_load1{namespace=~"team-a"}', original, ENFORCED_A)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40))
def test_any_label_value_round_trips_exactly(value: str) -> None:
    sent = enforce(f"up{{job={quote(value)}}}", TEAM_A)
    (matchers,) = all_matchers(sent)
    assert matchers == [("=", "__name__", "up"), ("=", "job", value), ENFORCED_A]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='"\\{},=~!` \n\'ab', max_size=30))
def test_hostile_values_never_add_selectors(payload: str) -> None:
    q = f"up{{job={quote(payload)}}} or node_load1{{instance={quote(payload)}}}"
    sels = all_matchers(enforce(q, TEAM_A))
    assert len(sels) == 2
    assert all(m.count(ENFORCED_A) == 1 for m in sels)


def test_selector_walk_covers_every_child_and_refuses_strangers() -> None:
    q = "topk(scalar(a), b) + on(x) -max_over_time((c)[5m:1m] offset 1m) / count_values(\"v\", rate(d[5m]))"
    assert [vs.name for vs in selectors(pp.parse(q))] == ["a", "b", "c", "d"]
    with pytest.raises(UnsafeQuery):
        selectors(object())


# --- the allowed-namespaces input itself, and matchers that can match nothing in scope -------------
SHOP = frozenset({"shop"})


@pytest.mark.parametrize(
    "bad",
    [frozenset({""}), frozenset({"shop", ""}), frozenset({" shop"}), frozenset({"Shop"}),
     frozenset({"shop|kube-system"}), frozenset({".*"}), frozenset({"a\nb"}), frozenset({"-x"}),
     frozenset({"x" * 254}), frozenset({"team-a", None})],  # type: ignore[arg-type]
)
def test_an_empty_or_invalid_allowed_namespace_is_refused(bad: frozenset[str]) -> None:
    # `""` used to be accepted: `namespace=~"|shop"` admits series with no namespace label
    with pytest.raises(ScopeDenied, match="invalid namespace"):
        enforce("up", bad)


@given(st.text(max_size=70))
def test_allowed_namespaces_must_be_kubernetes_names(name: str) -> None:
    valid = bool(re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name)) and len(name) <= 253
    try:
        sent = enforce("up", frozenset({name}))
    except ScopeDenied:
        assert not valid
        return
    assert valid
    (matchers,) = all_matchers(sent)
    assert ("=~", "namespace", regex_escape(name)) in matchers


@pytest.mark.parametrize(
    "query, named",
    [
        ('up{namespace=~"payments"}', "payments"),
        ('up{namespace!="shop"}', None),
        ('up{namespace!~"sh.*"}', None),
        ('up{namespace=~"pay.*|kube-.*"}', None),
        ('up{namespace=~""}', None),
        ('up{namespace=~"shop", namespace!="shop"}', None),
        ('sum(rate(http_requests_total{namespace=~"SHOP"}[5m]))', "SHOP"),  # anchored, case-sensitive
        ('up{namespace=~"sho"}', "sho"),  # anchored: no partial match
        ('up{job="x"} or up{namespace!~".+"}', None),
    ],
)
def test_a_namespace_matcher_that_matches_nothing_in_scope_is_a_scope_denial(
    query: str, named: str | None
) -> None:
    with pytest.raises(ScopeDenied, match="none of your namespaces") as err:
        enforce(query, SHOP)
    assert err.value.namespace == named
    assert "(shop)" in str(err.value)


@pytest.mark.parametrize(
    "query",
    ['up{namespace=~"sh.*"}', 'up{namespace!="payments"}', 'up{namespace!~"pay.*"}', 'up{namespace=~".*"}',
     'up{namespace=~"payments|shop"}', 'up{namespace!=""}', 'up{namespace=~"(?i)SHOP"}',
     'up{namespace=~"[[:alpha:]]+"}', 'up{namespace=~"\\\\pL+"}'],
)
def test_a_namespace_matcher_that_can_match_in_scope_is_kept(query: str) -> None:
    (matchers,) = all_matchers(enforce(query, SHOP))
    assert ("=~", "namespace", "shop") in matchers


def test_a_regex_that_is_slow_to_decide_is_never_refused_on_a_guess() -> None:
    # Catastrophic for a backtracking engine: the check may give up (then the query goes out,
    # still enforced), but it never hangs and never refuses what could match.
    q = 'up{namespace=~"(a*)*(a*)*(a*)*(a*)*b|a+"}'
    (matchers,) = all_matchers(enforce(q, frozenset({"a" * 60})))
    assert ("=~", "namespace", "a" * 60) in matchers


NS_UNIVERSE = ["shop", "payments", "team-a", "a.b", "axb", "kube-system"]
ns_regex = st.sampled_from(
    ["shop", "pay.*", "team-.*", "a.b", "a\\.b", ".*", ".+", "", "s.*|p.*", "kube-system|team-a", "x"]
)


@settings(max_examples=300, deadline=None)
@given(
    scope=st.sets(st.sampled_from(NS_UNIVERSE), min_size=1).map(frozenset),
    op=st.sampled_from(["=~", "!=", "!~"]),
    value=ns_regex | st.sampled_from(NS_UNIVERSE),
)
def test_refused_exactly_when_no_namespace_in_scope_can_match(
    scope: frozenset[str], op: str, value: str
) -> None:
    def hit(ns: str) -> bool:
        if op == "!=":
            return ns != value
        full = re.fullmatch(value, ns) is not None
        return full if op == "=~" else not full

    can_match = any(hit(ns) for ns in scope)
    q = f"up{{namespace{op}{quote(value)}}}"
    if can_match:
        (matchers,) = all_matchers(enforce(q, scope))
        assert ("=~", "namespace", namespace_regex(scope)) in matchers
    else:
        with pytest.raises(ScopeDenied):
            enforce(q, scope)


REAL_SCOPES = [frozenset({"team-a"}), frozenset({"team-a", "a.b"}), frozenset({"team-b", "kube-system"})]
REAL_VALUES = ["team-a", "team-b", "a.b", "axb", "", "team-.*", "a\\.b", ".*", ".+", "kube.*|team-a", "zzz"]


@pytest.mark.prometheus
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scope=st.sampled_from(REAL_SCOPES), op=st.sampled_from(["=", "=~", "!=", "!~"]),
       value=st.sampled_from(REAL_VALUES))
def test_refusals_match_what_the_real_prometheus_would_return(
    prometheus_server: PrometheusServer, scope: frozenset[str], op: str, value: str
) -> None:
    """Every fixture namespace has an `up` series: a refusal must mean the in-scope answer is empty,
    and an accepted query must return only in-scope series — never a silent empty result."""
    q = f"up{{namespace{op}{quote(value)}}}"
    client = PrometheusClient(url=prometheus_server.url)
    try:
        try:
            sent = enforce(q, scope)
        except ScopeDenied:
            # what an unrestricted user gets for the same selector, restricted to the scope by hand
            wide = asyncio.run(client.query(q))
            assert not [s for s in wide.result if s["metric"].get("namespace") in scope], q
            return
        result = asyncio.run(client.query(sent))
    finally:
        client.close()
    got = {s["metric"].get("namespace") for s in result.result}
    assert got and got <= scope, (q, sent, got)
