"""Offline mode through the running app (no `anthropic_api_key`): signed @mentions over HTTP, the
Kubernetes simulator behind the real tools, answers read back from the Slack simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.app.agent.test_offline_focus import CHECKOUT_POD, DECISIVE, demo_with_crashing_checkout
from tests.fixtures.kubernetes import ClusterFactory, SimCluster, k8s_cluster  # noqa: F401
from tests.scenario.conftest import ALICE, CHANNEL, VERA, Harness, HarnessFactory, visible


@pytest.fixture
async def offline_app(
    make_harness: HarnessFactory,
    scenario_env: dict[str, str],
    k8s_cluster: ClusterFactory,  # noqa: F811
) -> tuple[Harness, SimCluster]:
    cluster = await k8s_cluster(demo_with_crashing_checkout())
    key = Path(scenario_env["AIOPS_SECRETS_DIR"]) / "anthropic_api_key"
    await asyncio.to_thread(key.unlink)
    scenario_env["KUBECONFIG"] = str(cluster.kubeconfig)
    return await make_harness(), cluster


async def ask(h: Harness, user: str, question: str) -> str:
    sent = await h.sender.mention(user, CHANNEL, question)
    assert sent.status == 200
    return visible(await h.wait_answer(CHANNEL, sent.payload["event"]["ts"]))  # type: ignore[index]


async def test_two_questions_get_two_focused_answers(offline_app: tuple[Harness, SimCluster]) -> None:
    h, _ = offline_app
    checkout = await ask(h, ALICE, "why is checkout crashing?")
    payments = await ask(h, ALICE, "anything broken in payments?")
    assert "Offline mode" in checkout and "Offline mode" in payments
    about_checkout = checkout.split("Also in your scope")[0]
    about_payments = payments.split("Also in your scope")[0]
    assert CHECKOUT_POD in about_checkout and DECISIVE in about_checkout
    assert "ledger-data" not in about_checkout
    assert "ledger-data" in about_payments and CHECKOUT_POD not in about_payments
    assert not h.anthropic.requests  # no model involved


async def test_viewer_asking_about_another_namespace_is_told_so(
    offline_app: tuple[Harness, SimCluster],
) -> None:
    h, cluster = offline_app
    answer = await ask(h, VERA, "anything broken in payments?")
    assert "You cannot see namespace `payments`" in answer
    assert "ledger-data" not in answer and "fraud-scorer" not in answer
    assert "payments" not in cluster.namespaced_paths()
    rows = await h.audit_rows("security", user_id="kc-vera")
    assert [(r["namespace"], r["failure_reason"]) for r in rows] == [("payments", "out_of_scope")]
