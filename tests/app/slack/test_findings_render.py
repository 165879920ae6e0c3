"""Findings as Slack blocks: inside Slack's limits whatever their size, model text neutralized,
links only to the configured Prometheus, uncited claims never in a finding block."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from app.agent.base import AgentAnswer
from app.agent.evidence import CallRecord
from app.agent.findings import check
from app.slack import strings
from app.slack.render import MAX_BLOCKS, render_answer
from tools import sanitize

PROM = "https://prometheus.corp.example/prom"
HOSTS = {"prometheus.corp.example"}
LONG_QUERY = "sum by (pod) (rate(http_requests_total{job=~\"" + "a|" * 400 + "b\"}[5m]))"


def calls(n: int, line: str) -> list[CallRecord]:
    out = []
    for i in range(1, n + 1):
        if i % 2:
            out.append(CallRecord(i, "k8s_pod_logs", {"namespace": "shop", "pod": f"p{i}"},
                                  sanitize.wrap("k8s_pod_logs", {"lines": line})))
        else:
            out.append(CallRecord(i, "prometheus_range_query", {"query": LONG_QUERY},
                                  sanitize.wrap("prometheus_range_query", {"start": "2026-11-29T21:00:00Z",
                                                                           "end": "2026-11-29T22:00:00Z"}),
                                  query_sent=LONG_QUERY if i % 4 == 0 else "up{namespace=\"shop\"}",
                                  graphs=("prometheus-range-1.png",)))
    return out


def answer_with(report, body: str = "Summary.") -> AgentAnswer:
    return AgentAnswer(text=body, findings=report, body=body, evidence=["x"] * 20)


def limits_hold(messages) -> None:
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS
        assert sum(len(b["text"]) for b in m.blocks if b["type"] == "markdown") <= 12_000
        for b in m.blocks:
            if b["type"] == "section":
                assert len(b["text"]["text"]) <= 3_000
            if b["type"] == "context":
                assert len(b["elements"]) <= 10
                assert all(len(e["text"]) <= 3_000 for e in b["elements"])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 30), st.integers(1, 12), st.integers(0, 11_900))
def test_any_number_and_size_of_findings_fits_slack(n_findings: int, n_calls: int, body_len: int) -> None:
    line = "E" * 3_000
    recs = calls(n_calls, line)
    items = [{"claim": "c" * 2_000, "severity": "critical", "confidence": "high",
              "evidence": [{"call": c, "quote": line} for c in range(1, n_calls + 1)]}
             for _ in range(n_findings)]
    raw = {"findings": items, "unknown": "u" * 5_000, "next": ["n" * 3_000] * 9}
    report = check(raw, recs, may_recommend=True)
    messages = render_answer(answer_with(report, "b" * body_len), uuid.uuid4(), allowed_hosts=HOSTS,
                             prometheus_url=PROM)
    limits_hold(messages)
    assert strings.AUDIT_REF.split("`")[0] in str(messages[-1].blocks)


def test_model_text_is_neutralized_and_links_go_only_to_prometheus() -> None:
    recs = calls(2, "ERROR boom <!channel>")
    raw = {"findings": [
        {"claim": "<!channel> see [here](https://evil.example/x) <@U123>",
         "evidence": [{"call": 1, "quote": "boom"}]},
        {"claim": "traffic", "evidence": [2]},
    ], "unknown": "<!here> everything", "next": ["visit https://evil.example"]}
    report = check(raw, recs, may_recommend=True)
    [msg] = render_answer(answer_with(report), uuid.uuid4(), allowed_hosts=HOSTS, prometheus_url=PROM)
    text = str(msg.blocks)
    assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text
    assert "https://evil.example" not in text
    links = [seg.split("|")[0] for seg in text.split("<")[1:] if seg.startswith("http")]
    expected = PROM + "/graph?g0.expr=up%7Bnamespace%3D%22shop%22%7D"
    assert links and all(link.startswith(expected) for link in links)


def test_without_an_external_url_there_is_no_link() -> None:
    report = check({"findings": [{"claim": "traffic", "evidence": [2]}]}, calls(2, "x"), may_recommend=True)
    [msg] = render_answer(answer_with(report), uuid.uuid4(), allowed_hosts=HOSTS)
    text = str(msg.blocks)
    assert "up{namespace=\\\"shop\\\"}" in text or 'up{namespace="shop"}' in text
    assert "http" not in text


def test_uncited_claims_only_appear_as_not_verified() -> None:
    report = check({"findings": [{"claim": "NOPE", "evidence": [{"call": 1, "quote": "not there"}]},
                                 {"claim": "YES", "evidence": [1]}]}, calls(1, "line"), may_recommend=True)
    [msg] = render_answer(answer_with(report), uuid.uuid4())
    sections = [b["text"]["text"] for b in msg.blocks if b["type"] == "section"]
    assert any("YES" in s for s in sections) and not any("NOPE" in s for s in sections)
    unverified = [b for b in msg.blocks if b["type"] == "context" and "Not verified" in str(b)]
    assert len(unverified) == 1 and "NOPE" in str(unverified[0])
