"""Offline mode produces cited findings from the analyzers (issue 15, item 1): the same checked
structure as the model's, each citing the `analyze` call that returned it and quoting its decisive
log line, rendered in Slack as finding blocks with their confidence."""

from __future__ import annotations

import uuid

from app.agent import texts
from app.slack import strings
from app.slack.render import render_answer
from sim.slack.render import blocks_text
from tests.app.agent.test_offline_focus import CHECKOUT_POD, DECISIVE, offline  # noqa: F401  (fixture)


async def test_offline_answer_has_findings_citing_the_analyzers(offline) -> None:  # noqa: F811
    answer, _, _ = await offline("why is checkout crashing?", ("shop", "payments"))
    report = answer.findings
    assert answer.offline and report is not None and report.source == "analyzers"
    first = report.findings[0]
    assert CHECKOUT_POD in first.claim and first.severity == "critical" and first.confidence == "high"
    [ev] = first.evidence
    assert ev.tool == "analyze" and ev.call >= 1
    assert ev.quote and DECISIVE in ev.quote  # the decisive line whole, checked against the call's result
    assert first.next_check  # the analyzer's next query
    assert not report.unverified
    # the whole text still has them (thread history, API); Slack shows them once, as blocks
    assert DECISIVE in answer.text and answer.body is not None and DECISIVE not in answer.body
    [msg] = render_answer(answer, uuid.uuid4())
    shown = blocks_text(msg.blocks)
    assert strings.FINDINGS_TITLE_ANALYZERS in shown and "confidence: *high*" in shown
    assert CHECKOUT_POD in shown and DECISIVE in shown and "Offline mode" in shown
    assert shown.index(DECISIVE) < shown.index(texts.OFFLINE_ALSO)  # the question first, then the rest
    assert "ledger-data" in shown.split(texts.OFFLINE_ALSO)[1]


async def test_offline_with_nothing_wrong_says_what_is_unknown(offline) -> None:  # noqa: F811
    answer, _, _ = await offline("why is checkout crashing?", ("shop",), scenario="healthy")
    report = answer.findings
    assert report is not None and not report.supported and report.source == "analyzers"
    assert report.unknown == texts.OFFLINE_FINDINGS_UNKNOWN and report.next_checks
    [msg] = render_answer(answer, uuid.uuid4())
    shown = blocks_text(msg.blocks)
    assert strings.FINDINGS_NONE in shown and "Nothing wrong found for `checkout`" in shown
