"""Property: whatever the scope and whatever the model asks, the tools themselves (without the
router's checks) never send a request for a namespace outside the scope, never list across all
namespaces for a scoped user, never read nodes without cluster-wide access, and never return an
out-of-scope item."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.errors import ToolError
from kernel.scope import EffectiveScope
from sim.kubernetes import KubernetesSimulator, Scenario
from tests.fixtures.kubernetes import SimCluster, scope_for
from tests.tools.kubernetes.conftest import ctx_for
from tools.analyzers.tool import AnalyzeTool
from tools.kubernetes.changes import K8sChangesTool
from tools.kubernetes.client import METADATA_ACCEPT, KubernetesClient
from tools.kubernetes.schemas import KIND_NAMES
from tools.kubernetes.tools import kubernetes_tools

UNIVERSE = ["shop", "payments", "monitoring", "kube-system", "ghost", "checkout"]
SCENARIO = Scenario.load("crashloop")
for _obj in Scenario.load("changes").objects:  # rollouts, scalings, node cordons for k8s_changes
    SCENARIO.add(_obj)

scopes = st.builds(
    lambda roles, ns, channel: scope_for(roles, ns, channel_namespaces=channel),
    st.sets(st.sampled_from(["viewer", "analyst", "admin", "guest"]), min_size=1, max_size=2),
    st.sets(st.sampled_from(UNIVERSE), max_size=4),
    st.none() | st.sets(st.sampled_from(UNIVERSE), max_size=3),
)
calls = st.one_of(
    st.tuples(
        st.just("k8s_list"),
        st.fixed_dictionaries(
            {"kind": st.sampled_from(KIND_NAMES)}, optional={"namespace": st.sampled_from(UNIVERSE)}
        ),
    ),
    st.tuples(
        st.just("k8s_get"),
        st.fixed_dictionaries(
            {
                "kind": st.sampled_from(KIND_NAMES),
                "name": st.sampled_from(["orders", "node-a", "payments-db-0", "checkout"]),
            },
            optional={"namespace": st.sampled_from(UNIVERSE)},
        ),
    ),
    st.tuples(
        st.just("k8s_events"),
        st.fixed_dictionaries(
            {}, optional={"namespace": st.sampled_from(UNIVERSE), "involved_object": st.just("orders")}
        ),
    ),
    st.tuples(
        st.just("k8s_pod_logs"),
        st.fixed_dictionaries(
            {
                "namespace": st.sampled_from(UNIVERSE),
                "pod": st.sampled_from(["orders-6c9f7d5b8-r4d2k", "payments-db-0"]),
            }
        ),
    ),
    st.tuples(
        st.just("k8s_changes"),
        st.fixed_dictionaries(
            {}, optional={"namespace": st.sampled_from(UNIVERSE), "since": st.sampled_from(["1h", "7d"])}
        ),
    ),
    st.tuples(
        st.just("analyze"), st.fixed_dictionaries({}, optional={"namespace": st.sampled_from(UNIVERSE)})
    ),
)


def _items(out: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("items", "findings"):
        if key in out:
            return list(out[key])
    return [out["item"]] if "item" in out else [out]


async def _run(scope: EffectiveScope, tool_name: str, args: dict[str, Any]) -> None:
    async with KubernetesSimulator(scenario=SCENARIO) as sim:
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = sim.write_kubeconfig(Path(tmp) / "kc")
            client = KubernetesClient(kubeconfig=str(kubeconfig))
            cluster = SimCluster(sim=sim, kubeconfig=kubeconfig, client=client)
            tools = {
                t.name: t
                for t in [
                    *kubernetes_tools(client=client),
                    AnalyzeTool(client=client),
                    K8sChangesTool(client=client),
                ]
            }
            try:
                out = await tools[tool_name]._invoke(args, ctx_for(scope))
            except ToolError:
                out = None
            finally:
                await client.close()
    allowed = scope.namespaces
    touched = cluster.namespaced_paths()
    # Secrets and ConfigMaps: metadata-only lists (analyze's existence checks), never their data
    assert all(
        r.accept == METADATA_ACCEPT and r.path.endswith(("/secrets", "/configmaps"))
        for r in sim.requests
        if "/secrets" in r.path or "/configmaps" in r.path
    )
    assert all(r.method == "GET" for r in sim.requests)
    if allowed is not None:
        assert touched <= allowed, (touched, allowed)
        assert cluster.cluster_wide_lists() == []
    if not scope.cluster_wide:
        assert not any(p.startswith("/api/v1/nodes") for p in sim.paths())
    if not scope.may_query:
        assert sim.requests == []
    for item in _items(out or {}):
        if "namespace" in item:
            assert scope.allows(item["namespace"]), item


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scope=scopes, call=calls)
def test_tools_never_reach_outside_the_scope(scope: EffectiveScope, call: tuple[str, dict[str, Any]]) -> None:
    asyncio.run(_run(scope, *call))
