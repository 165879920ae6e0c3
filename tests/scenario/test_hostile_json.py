"""Deeply nested or otherwise hostile JSON with a valid signature / bearer token is a client
error (400 with a reason), never a 500 — on every endpoint that parses JSON."""

from __future__ import annotations

from sim.slack_events import form_body, json_body
from tests.scenario.conftest import Harness

DEPTH = 100_000


def nested(depth: int = DEPTH) -> bytes:
    return b'{"type":"event_callback","event":' + b"[" * depth + b"]" * depth + b"}"


async def test_nested_event_body_is_400(harness: Harness) -> None:
    result = await harness.sender.post(nested(), "application/json")
    assert result.status == 400, result.body
    assert "nested" in result.body


async def test_nested_interactivity_payload_is_400(harness: Harness) -> None:
    payload = (b"[" * DEPTH + b"]" * DEPTH).decode()
    result = await harness.sender.post(*form_body({"payload": payload}))
    assert result.status == 400, result.body


async def test_ordinary_nesting_still_works(harness: Harness) -> None:
    body, ctype = json_body({"type": "url_verification", "challenge": "abc", "token": "x"})
    result = await harness.sender.post(body, ctype)
    assert result.status == 200 and "abc" in result.body


async def test_nested_alert_body_is_400(harness: Harness) -> None:
    raw = b'{"version":"4","alerts":' + b"[" * DEPTH + b"]" * DEPTH + b"}"
    status, body = await harness.post_alert({}, raw=raw)
    assert status == 400 and "nested" in body["error"]
    assert await harness.redis.xlen(f"{harness.prefix}:jobs") == 0


async def test_huge_numbers_and_bad_unicode_in_alerts_are_400(harness: Harness) -> None:
    status, _ = await harness.post_alert({}, raw=b'{"version":"4","x":' + b"9" * 50_000 + b"}")
    assert status == 400
    status, _ = await harness.post_alert({}, raw=b'{"version":"4","x":"\xff\xfe"}')
    assert status == 400
