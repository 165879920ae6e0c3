"""Generated PromQL: every selector of the query we send is enforced (checked by re-parsing), and
the real Prometheus returns no series from outside the scope for it."""

from __future__ import annotations

import asyncio

import promql_parser as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.errors import BackendError, ScopeDenied, UnsafeQuery
from tests.fixtures.prometheus import NAMESPACED_PODS, PrometheusServer
from tests.tools.prometheus.promql_gen import expr
from tools.prometheus.client import PrometheusClient
from tools.prometheus.enforce import enforce, namespace_regex, selectors
from tools.prometheus.matchers import first_unsatisfiable
from tools.prometheus.printer import selector_matchers

SCOPES = [frozenset({"team-a"}), frozenset({"team-a", "a.b"}), frozenset({"team-b", "kube-system"})]


def _sorted_matchers(vs: pp.VectorSelector) -> list[tuple[str, str, str]]:
    return sorted(selector_matchers(vs))


@settings(max_examples=400, deadline=None)
@given(q=expr(), ns=st.sampled_from(SCOPES))
def test_every_selector_sent_carries_the_enforced_matcher(q: str, ns: frozenset[str]) -> None:
    try:
        original = pp.parse(q)
    except ValueError:
        with pytest.raises(UnsafeQuery):
            enforce(q, ns)
        return
    enforced = ("=~", "namespace", namespace_regex(ns))
    try:
        sent = enforce(q, ns)
    except ScopeDenied:
        # only ever for a selector whose namespace matchers leave no namespace of the scope
        assert any(
            first_unsatisfiable(
                [(op, value) for op, name, value in selector_matchers(vs) if name == "namespace"], ns
            )
            for vs in selectors(original)
        )
        return
    original_sels, sent_sels = selectors(original), selectors(pp.parse(sent))
    assert len(sent_sels) == len(original_sels)
    for before, after in zip(original_sels, sent_sels, strict=True):
        # all original matchers kept byte-for-byte (escaping is right), plus exactly the enforced one
        assert _sorted_matchers(after) == sorted([*selector_matchers(before), enforced])
        assert not after.matchers.or_matchers


OUT_OF_SCOPE_A = {pod for ns, pods in NAMESPACED_PODS.items() if ns not in {"team-a", "a.b"} for pod in pods}


@pytest.mark.prometheus
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=expr(with_absent=False))
def test_real_prometheus_returns_nothing_out_of_scope(prometheus_server: PrometheusServer, q: str) -> None:
    scope = frozenset({"team-a", "a.b"})
    try:
        sent = enforce(q, scope)
    except (UnsafeQuery, ScopeDenied):
        return
    client = PrometheusClient(url=prometheus_server.url)
    try:
        result = asyncio.run(client.query(sent))
    except BackendError:
        return  # e.g. many-to-many matching: a PromQL error, not a scope question
    finally:
        client.close()
    if result.result_type not in ("vector", "matrix"):
        return
    for item in result.result:
        labels = item["metric"]
        assert labels.get("namespace") in (None, "team-a", "a.b"), (sent, labels)
        assert labels.get("pod") not in OUT_OF_SCOPE_A, (sent, labels)
        assert "instance" not in labels, (sent, labels)  # node-level series are admin-only
