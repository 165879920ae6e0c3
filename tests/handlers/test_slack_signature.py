"""Slack request verification (adversarial + hypothesis) and the rate-limited refusal audit."""

from __future__ import annotations

import hashlib
import hmac
import time

import asyncpg
from hypothesis import given, settings
from hypothesis import strategies as st

from app.audit.log import PostgresAuditLog
from handlers.slack import MAX_SKEW_S, RejectionRecorder, signature_problem
from kernel.metrics import Metrics

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(secret: str, ts: str, body: bytes) -> str:
    return (
        "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    )


def headers(ts: str, sig: str) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def test_a_correct_signature_passes() -> None:
    ts, body = str(int(time.time())), b'{"type":"event_callback"}'
    assert signature_problem(SECRET, headers(ts, sign(SECRET, ts, body)), body) is None


@settings(max_examples=200)
@given(body=st.binary(max_size=200), flip=st.integers(min_value=0, max_value=10_000))
def test_any_change_to_the_body_is_rejected(body: bytes, flip: int) -> None:
    ts = str(int(time.time()))
    sig = sign(SECRET, ts, body)
    tampered = (
        body + b"x"
        if not body
        else body[: flip % len(body)]
        + bytes([body[flip % len(body)] ^ 1])
        + body[flip % len(body) + 1 :]
    )
    assert signature_problem(SECRET, headers(ts, sig), tampered) == "bad_signature"


@given(other=st.text(min_size=1, max_size=40).filter(lambda s: s != SECRET))
def test_a_signature_made_with_another_secret_is_rejected(other: str) -> None:
    ts, body = str(int(time.time())), b"payload"
    assert signature_problem(SECRET, headers(ts, sign(other, ts, body)), body) == "bad_signature"


@given(skew=st.integers(min_value=MAX_SKEW_S + 1, max_value=10**9), future=st.booleans())
def test_old_or_future_timestamps_are_stale_even_when_correctly_signed(skew: int, future: bool) -> None:
    now = 1_800_000_000
    ts = str(now + skew if future else now - skew)
    body = b"payload"
    assert (
        signature_problem(SECRET, headers(ts, sign(SECRET, ts, body)), body, now=now)
        == "stale_timestamp"
    )


@given(garbage=st.text(max_size=30))
def test_garbage_headers_never_pass(garbage: str) -> None:
    body = b"payload"
    ts = str(int(time.time()))
    assert signature_problem(SECRET, headers(ts, garbage), body) is not None
    assert signature_problem(SECRET, headers(garbage, sign(SECRET, ts, body)), body) is not None
    assert signature_problem(SECRET, {}, body) == "missing_signature"


def test_signature_for_another_timestamp_is_rejected() -> None:
    ts = int(time.time())
    body = b"payload"
    assert (
        signature_problem(SECRET, headers(str(ts), sign(SECRET, str(ts - 1), body)), body)
        == "bad_signature"
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _rows(pool: asyncpg.Pool, ip: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM audit_events WHERE ip_address = $1::inet", ip))


async def test_refusals_are_audited_but_rate_limited(
    audit_log: PostgresAuditLog, pg_pool: asyncpg.Pool
) -> None:
    metrics, clock = Metrics(), FakeClock()
    rec = RejectionRecorder(audit=audit_log, metrics=metrics, per_key=3, total=5, clock=clock)
    written = [await rec.record("bad_signature", "10.9.0.1") for _ in range(10)]
    assert written == [True] * 3 + [False] * 7
    assert await _rows(pg_pool, "10.9.0.1") == 3
    # other sources still get rows, up to the global cap
    assert [await rec.record("bad_signature", f"10.9.1.{i}") for i in range(4)] == [
        True,
        True,
        False,
        False,
    ]
    # a new minute: rows again
    clock.now += 60
    assert await rec.record("bad_signature", "10.9.0.1") is True
    assert await _rows(pg_pool, "10.9.0.1") == 4
    counted = metrics.registry.get_sample_value("aiops_auth_failures_total", {"reason": "bad_signature"})
    assert counted == 15  # every refusal is counted


async def test_an_unreachable_audit_store_does_not_break_the_refusal() -> None:
    pool = await asyncpg.create_pool("postgresql://postgres@127.0.0.1:5432/test", min_size=0, max_size=1)
    assert pool is not None
    await pool.close()
    rec = RejectionRecorder(audit=PostgresAuditLog(pool=pool, agent_version="x"), metrics=Metrics())
    assert await rec.record("bad_signature", "10.0.0.1") is False
