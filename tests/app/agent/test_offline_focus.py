"""Offline mode answers the question (issue 11): the agent with no Anthropic key, the real
ToolRouter (PostgreSQL audit, Redis blocklist), the analyzers and the Kubernetes simulator.

The cluster is the demo scenario (shop: orders crash-looping, recommender OOMKilled, frontend
rollout stuck; payments: ledger-data PVC pending, fraud-scorer restarting) plus a crash-looping
checkout pod whose decisive log line is 600 characters long.
"""

from __future__ import annotations

import copy
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.agent import texts
from app.agent.claude import ClaudeAgent
from app.agent.focus import alert_focus, question_focus
from app.jobs import Job
from sim.kubernetes import Scenario
from tests.app.agent.helpers import RecordingSurface
from tests.fixtures.kubernetes import scope_for
from tools.analyzers.tool import AnalyzeTool
from tools.blocklist import Blocklist
from tools.router import ToolRouter

CHECKOUT_POD = "checkout-7d9f8b6c5-q8w2e"
LONG_ERROR = (
    "2026-11-26T09:40:03Z ERROR [main] o.s.boot.SpringApplication: Application run failed: "
    "org.springframework.beans.factory.BeanCreationException: Error creating bean with name "
    "'paymentGatewayClient' defined in class path resource [com/example/shop/PaymentConfig.class]: "
    "Failed to instantiate [com.example.shop.PaymentGatewayClient]: Factory method 'paymentGatewayClient' "
    "threw exception with message: TLS handshake to gateway.payments.svc.cluster.local:8443 failed: "
    "PKIX path building failed: unable to find valid certification path to requested target "
    "(truststore /etc/ssl/checkout/truststore.jks holds 0 certificates; expected the payments-ca bundle)"
)
CHECKOUT_LOG = [
    "2026-11-26T09:40:00Z INFO starting checkout service version=1.4.3",
    "2026-11-26T09:40:01Z INFO loading truststore /etc/ssl/checkout/truststore.jks",
    LONG_ERROR,
    "2026-11-26T09:40:03Z INFO shutting down",
]
DECISIVE = LONG_ERROR.split("Z ", 1)[1]
"""The line as shown (the simulator shifts timestamps to the real clock)."""


def demo_with_crashing_checkout() -> Scenario:
    scenario = Scenario.load("demo")
    orders = next(
        o for o in scenario.objects if o["kind"] == "Pod" and o["metadata"]["name"].startswith("orders-")
    )
    pod = copy.deepcopy(orders)
    pod["metadata"].update(name=CHECKOUT_POD, labels={"app": "checkout"})
    pod["metadata"]["ownerReferences"][0]["name"] = "checkout-7d9f8b6c5"
    status = pod["status"]["containerStatuses"][0]
    status["image"] = pod["spec"]["containers"][0]["image"] = "registry.example.com/shop/checkout:1.4.3"
    status["state"]["waiting"]["message"] = (
        f"back-off 5m0s restarting failed container=app pod={CHECKOUT_POD}"
    )
    scenario.add(pod)
    scenario.logs[("shop", CHECKOUT_POD, "app", True)] = CHECKOUT_LOG
    return scenario


@pytest.fixture
async def offline(k8s_cluster, audit_log, metrics, pg_pool, redis_prefix):
    """ask(question, namespaces, alert=None) → (answer, cluster) from an agent with no Anthropic key."""

    async def ask(question: str, namespaces: tuple[str, ...], *, alert=None, scenario=None, user=None):
        cluster = await k8s_cluster(scenario or demo_with_crashing_checkout())
        router = ToolRouter(
            tools=[AnalyzeTool(client=cluster.client)],
            audit=audit_log,
            metrics=metrics,
            blocklist=Blocklist(pool=pg_pool, prefix=redis_prefix),
        )
        agent = ClaudeAgent(client=None, model="m", router=router, audit=audit_log, metrics=metrics)
        job = Job(
            job_id=uuid.uuid4().hex,
            kind="alert" if alert else "mention",
            channel_id="C1",
            user_id="U1",
            text=question,
            thread_ts="1.1",
            alert=alert,
        )
        scope = scope_for(("viewer",), namespaces, user=user or f"U-{uuid.uuid4().hex[:8]}")
        return await agent.answer(job, scope, [], RecordingSurface()), cluster, scope

    return ask


def sections(text: str) -> tuple[str, str]:
    """(what the answer says about the question, the 'also in your scope' list)."""
    head, _, also = text.partition(texts.OFFLINE_ALSO)
    return head, also


async def test_why_is_checkout_crashing_answers_about_checkout_with_the_whole_log_line(offline) -> None:
    answer, _, _ = await offline("why is checkout crashing?", ("shop", "payments"))
    focused, also = sections(answer.text)
    assert answer.offline and "*About checkout*" in focused
    assert CHECKOUT_POD in focused and "crash-looping" in focused
    assert (
        DECISIVE in focused and len(DECISIVE) > 600
    )  # the decisive line, all 600+ characters, not cut at 200
    assert "INFO loading truststore" not in focused  # only the decisive lines
    # the other crash is not what was asked: one line in the short list, no logs
    assert "orders-" not in focused and "orders-" in also
    assert "cannot reach database" not in answer.text
    bullets = [ln for ln in also.strip().split("\n") if ln.startswith("•")]
    assert len(bullets) <= 6 and bullets[0].startswith("• *critical*")  # most severe first


async def test_anything_broken_in_payments_gives_a_different_focused_answer(offline) -> None:
    payments, _, _ = await offline("anything broken in payments?", ("shop", "payments"))
    checkout, _, _ = await offline("why is checkout crashing?", ("shop", "payments"))
    focused, also = sections(payments.text)
    assert "*About payments*" in focused
    assert "ledger-data" in focused and "fraud-scorer" in focused
    assert CHECKOUT_POD not in focused and "orders-" not in focused
    assert CHECKOUT_POD in also or "orders-" in also
    assert sections(payments.text)[0] != sections(checkout.text)[0]


async def test_a_healthy_namespace_or_workload_is_said_to_be_fine(offline) -> None:
    answer, _, _ = await offline("anything broken in monitoring?", ("shop", "monitoring"))
    assert "Nothing wrong found in namespace `monitoring`" in answer.text
    healthy, _, _ = await offline("why is checkout crashing?", ("shop",), scenario="healthy")
    assert "Nothing wrong found for `checkout` (looked in shop)" in healthy.text
    assert texts.OFFLINE_ALSO not in healthy.text and texts.OFFLINE_NO_FINDINGS in healthy.text


async def test_a_namespace_outside_the_scope_is_refused_plainly_and_audited(offline, pg_pool) -> None:
    answer, cluster, scope = await offline("anything broken in payments?", ("shop",))
    assert "You cannot see namespace `payments`" in answer.text
    assert "ledger-data" not in answer.text and "fraud-scorer" not in answer.text
    assert cluster.namespaced_paths() <= {"shop"} and not cluster.cluster_wide_lists()
    rows = await pg_pool.fetch(
        "SELECT namespace, failure_reason FROM audit_events WHERE event_type = 'security' AND user_id = $1",
        scope.user_id,
    )
    assert [(r["namespace"], r["failure_reason"]) for r in rows] == [("payments", "out_of_scope")]


async def test_explicit_namespace_forms_out_of_scope(offline, pg_pool) -> None:
    answer, _, scope = await offline("show me pods in namespace kube-system and ns/payments", ("shop",))
    assert "You cannot see namespace `kube-system`" in answer.text
    assert "You cannot see namespace `payments`" in answer.text
    rows = await pg_pool.fetch(
        "SELECT namespace FROM audit_events WHERE event_type = 'security' AND user_id = $1", scope.user_id
    )
    assert sorted(r["namespace"] for r in rows) == ["kube-system", "payments"]


async def test_an_alert_is_answered_about_its_namespace_and_pod(offline) -> None:
    alert = {
        "status": "firing",
        "commonLabels": {"alertname": "KubePodCrashLooping", "namespace": "shop"},
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": CHECKOUT_POD},
            }
        ],
    }
    answer, _, _ = await offline("KubePodCrashLooping", ("shop",), alert=alert)
    focused, _ = sections(answer.text)
    assert "*About" in focused and CHECKOUT_POD in focused and DECISIVE in focused
    assert "orders-" not in focused


async def test_an_unfocused_question_still_lists_everything_in_scope(offline) -> None:
    answer, _, _ = await offline("what is wrong?", ("shop", "payments"))
    assert texts.OFFLINE_FINDINGS in answer.text and texts.OFFLINE_ALSO not in answer.text
    for name in (CHECKOUT_POD, "orders-", "ledger-data", "fraud-scorer"):
        assert name in answer.text


@pytest.mark.parametrize(
    "question, namespaces, names",
    [
        ("why is checkout crashing?", [], ["checkout"]),
        ("anything broken in payments?", ["payments"], []),
        ("what's wrong with orders in shop", ["shop"], ["orders"]),
        ("is ledger healthy?", [], ["ledger"]),
        ("logs for pod/checkout-7d9f8b6c5-q8w2e -n shop", ["shop"], ["checkout-7d9f8b6c5-q8w2e"]),
        ("kube-system namespace looks odd", ["kube-system"], []),
        ("errors in the last hour in prod?", [], []),
        ("payments down?", ["payments"], []),
    ],
)
def test_question_focus(question: str, namespaces: list[str], names: list[str]) -> None:
    focus = question_focus(question, ["shop", "payments"])
    assert (focus.namespaces, focus.names) == (namespaces, names)


def test_alert_focus_reads_namespace_and_resource_labels() -> None:
    focus = alert_focus(
        {"commonLabels": {"namespace": "shop"}, "alerts": [{"labels": {"deployment": "orders"}}]}
    )
    assert (focus.namespaces, focus.names) == (["shop"], ["orders"])
    assert not alert_focus({"alerts": [{"labels": {"namespace": "Not A Namespace!"}}]})


@given(st.text(max_size=300))
def test_any_question_gives_only_valid_namespace_names(question: str) -> None:
    focus = question_focus(question, ["shop"])
    for ns in focus.namespaces:
        assert len(ns) <= 63 and ns == ns.lower() and ns.replace("-", "").isalnum() and ns.isascii()
