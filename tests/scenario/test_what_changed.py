"""Alert triage asks "what changed?" first, over the running app: an alert fires 10 minutes after a
rollout changed checkout's image; the model (a scripted transcript on the Anthropic simulator
that reports the first change the tool returns) calls `k8s_changes`, and the answer in Slack
names that rollout first — never the newer rollout in `payments`, outside the alert's scope."""

from __future__ import annotations

import asyncio
import copy
import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from app.changes.watcher import USER_AGENT as WATCHER_AGENT
from sim.anthropic import SimReply
from tests.fixtures.kubernetes import ClusterFactory, SimCluster, k8s_cluster  # noqa: F401
from tests.scenario.alerts_data import FIRING
from tests.scenario.conftest import INCIDENT_CHANNEL, Harness, HarnessFactory, visible
from tools.kubernetes.client import METADATA_ACCEPT

_RESULT = re.compile(r'<tool_result name="k8s_changes"[^>]*>(.*)</tool_result>', re.S)


def tool_results(body: dict[str, Any]) -> list[str]:
    out = []
    for msg in body.get("messages") or []:
        content = msg.get("content")
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_result":
                inner = block.get("content")
                texts = [inner] if isinstance(inner, str) else [b.get("text", "") for b in inner or []]
                out += texts
    return out


def images(change: dict[str, Any]) -> str:
    return "; ".join(f"{d['container']} {d['from']} → {d['to']}" for d in change["image_changes"])


def triage_model(body: dict[str, Any]) -> SimReply:
    """Turn 1: ask what changed. Turn 2: lead with the first change returned, as prompted."""
    results = [m for m in (_RESULT.search(t) for t in tool_results(body)) if m]
    if not results:
        return SimReply(tool_uses=[("k8s_changes", {"namespace": "checkout", "since": "2h"})])
    data = json.loads(html.unescape(results[0].group(1)))
    first = data["items"][0]
    lines = [
        f"*Summary* — {first['change']} of {first['kind']} {first['namespace']}/{first['name']} at "
        f"{first['time']} ({first['detail']}: {images(first)}) is the most likely cause.",
        "*Findings*",
        *(
            f"• {i['kind']} {i['namespace']}/{i['name']}: {i['change']} at {i['time']}"
            for i in data["items"][1:]
        ),
    ]
    return SimReply(text="\n".join(lines))


@pytest.fixture
async def app_with_cluster(
    make_harness: HarnessFactory,
    scenario_env: dict[str, str],
    k8s_cluster: ClusterFactory,  # noqa: F811
    pg_pool: asyncpg.Pool,
) -> tuple[Harness, SimCluster]:
    cluster = await k8s_cluster("changes")  # served on the real clock: the rollout was 10 minutes ago
    scenario_env["KUBECONFIG"] = str(cluster.kubeconfig)
    # free the watchers' lease (another test's worker may have polled within the minute)
    await pg_pool.execute("UPDATE change_watch_lease SET polled_at = 'epoch' WHERE id = 1")
    return await make_harness(), cluster


async def test_a_rollout_10_minutes_before_the_alert_is_named_first(
    app_with_cluster: tuple[Harness, SimCluster],
) -> None:
    h, cluster = app_with_cluster
    h.anthropic.handler = triage_model
    alert = copy.deepcopy(FIRING)
    alert["alerts"][0]["startsAt"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, _ = await h.post_alert(alert)
    assert status == 200
    roots = await h.slack.wait_for(lambda: h.slack.root_messages(INCIDENT_CHANNEL), timeout=15)
    answer = visible(await h.wait_answer(INCIDENT_CHANNEL, roots[0].ts, timeout=30))

    # the prompt told the model to ask what changed first, and the tool was offered
    opening = h.anthropic.requests[0]
    assert "k8s_changes" in json.dumps(opening["messages"]) and "lead your answer" in json.dumps(opening)
    assert "k8s_changes" in [t["name"] for t in opening["tools"]]
    # the answer leads with the rollout and its image diff
    first_line = answer.strip().splitlines()[0]
    assert "rollout of deployment checkout/checkout" in first_line
    assert re.search(r"checkout:1\.7\.3 → \S*checkout:1\.8\.0", first_line)  # (hosts defanged by Slack posts)
    assert "hpa checkout/checkout: scaled" in answer  # the rest follows, newest first
    # the alert's scope is checkout: the newer payments rollout and the nodes never appear, and the
    # tool read no other namespace (the worker's watcher lists cluster-wide with its own account)
    assert "payments" not in answer and "node-" not in answer
    assert cluster.namespaced_paths() == {"checkout"}
    rows = await h.audit_rows("query")
    assert any("k8s_changes" in json.dumps(r["tool_calls"]) for r in rows)
    # the worker's change watcher polled the whole cluster meanwhile, as itself: metadata only
    def polled() -> list[Any] | None:
        mine = [r for r in cluster.sim.requests if r.user_agent.startswith(WATCHER_AGENT)]
        return mine if any(r.path == "/api/v1/configmaps" for r in mine) else None  # the last kind listed

    watcher = await h.slack.wait_for(polled, timeout=15, what="the change watcher's poll")
    assert {r.path for r in watcher} >= {"/apis/apps/v1/deployments", "/api/v1/nodes", "/api/v1/configmaps"}
    assert all(r.accept == METADATA_ACCEPT for r in watcher if "configmaps" in r.path)
    assert not any("secrets" in r.path for r in cluster.sim.requests)
    assert cluster.cluster_wide_lists() == []  # the tools' reads stayed namespaced


async def test_offline_triage_leads_with_what_changed(
    make_harness: HarnessFactory,
    scenario_env: dict[str, str],
    k8s_cluster: ClusterFactory,  # noqa: F811
) -> None:
    """Without a model (no anthropic_api_key) the triage still leads with the change records."""
    cluster = await k8s_cluster("changes")
    key = Path(scenario_env["AIOPS_SECRETS_DIR"]) / "anthropic_api_key"
    await asyncio.to_thread(key.unlink)
    scenario_env["KUBECONFIG"] = str(cluster.kubeconfig)
    h = await make_harness()
    status, _ = await h.post_alert(copy.deepcopy(FIRING))
    assert status == 200
    roots = await h.slack.wait_for(lambda: h.slack.root_messages(INCIDENT_CHANNEL), timeout=15)
    answer = visible(await h.wait_answer(INCIDENT_CHANNEL, roots[0].ts, timeout=30))
    assert "Offline mode" in answer and not h.anthropic.requests
    section = answer.split("What changed", 1)[1]
    first = section.strip().splitlines()[1]  # after the title's tail
    assert "deployment checkout/checkout — rollout" in first and re.search(
        r"checkout:1\.7\.3 → \S*1\.8\.0", first
    )
    assert "payments" not in section and "node-" not in section
    assert answer.index("What changed") < answer.index("checkout/checkout")
