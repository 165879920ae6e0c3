"""Credentials typed into Slack are redacted before anything stores them (issue 10 item 5)."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.credentials import redact, redact_job
from app.jobs import Job

CASES = [
    ("my password is hunter2!", "hunter2!", "password"),
    ("DB_PASSWORD=correct-horse-battery", "correct-horse-battery", "password"),
    ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI", "password"),
    ('api_key: "abc def ghi"', "abc def ghi", "password"),
    ("use xoxb-1234567890-abcdefghijkl", "xoxb-1234567890-abcdefghijkl", "slack_token"),
    ("xapp-1-A0123-456-abcdef0123", "xapp-1-A0123-456-abcdef0123", "slack_token"),
    ("key sk-ant-api03-abcdefghijklmnop", "sk-ant-api03-abcdefghijklmnop", "anthropic_key"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github_token"),
    ("AKIAIOSFODNN7EXAMPLE is the id", "AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
    ("redis://:topsecret99@redis:6379/0", "topsecret99", "connection_string"),
    ("<postgres://app:pw123456@db/x|db>", "pw123456", "connection_string"),
    ("Authorization: Bearer abcdefghijklmnop1234", "abcdefghijklmnop1234", "bearer_token"),
    ("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlXzEyMw", "eyJzdWIiOiJhIn0", "jwt"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----",
        "MIIBOgIBAAJBAK",
        "private_key",
    ),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk (cut off", "b3BlbnNzaC1rZXk", "private_key"),
]


@pytest.mark.parametrize(("text", "secret", "kind"), CASES)
def test_each_kind_is_removed_and_named(text: str, secret: str, kind: str) -> None:
    out, kinds = redact(text)
    assert secret not in out
    assert kind in kinds and f"[REDACTED:{kind}]" in out


@pytest.mark.parametrize(
    "text",
    [
        "why is checkout returning 500s?",
        "is the password reset page slow?",
        "token is expired.",
        "p99 latency > 2s in namespace=checkout",
        "see https://grafana.example.com/d/abc?orgId=1",
    ],
)
def test_ordinary_questions_are_untouched(text: str) -> None:
    assert redact(text) == (text, [])


def test_redaction_is_idempotent() -> None:
    once, _ = redact("password=hunter2! and xoxb-1234567890-abcdefghijkl")
    assert redact(once) == (once, [])


def test_job_notes_what_was_removed() -> None:
    job = Job(job_id="e1", kind="dm", channel_id="D1", user_id="U1", text="password: s3cret!")
    out = redact_job(job)
    assert out.text == "password: [REDACTED:password]" and out.redacted == ["password"]
    clean = Job(job_id="e2", kind="dm", channel_id="D1", user_id="U1", text="hello")
    assert redact_job(clean) is clean


_secret = st.text(
    alphabet=string.ascii_letters + string.digits + "!@#%^*_-+", min_size=8, max_size=40
).filter(lambda s: any(c.isdigit() for c in s))
_words = st.lists(
    st.sampled_from(["why", "is", "checkout", "slow", "the", "db", "login", "fails", "?"]), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(
    before=_words,
    after=_words,
    secret=_secret,
    shape=st.sampled_from(
        [
            "password={}",
            "PASSWORD: {}",
            "my password is {}",
            "postgres://app:{}@db/x",
            "Bearer {}",
            "token={}",
        ]
    ),
)
def test_property_a_typed_credential_never_survives(
    before: list[str], after: list[str], secret: str, shape: str
) -> None:
    text = " ".join([*before, shape.format(secret), *after])
    out, kinds = redact(text)
    assert secret not in out and kinds


_FRAGMENTS = [
    "password", "PASSWORD", "pa\u017fsword", "to\u212aen", "ap\u0131 key", "api_key", "secret", "pwd",
    " is ", "=", ":", "=>", "sk-", "sk-ant-", "AKIA", "ASIA", "AIza", "eyJ", ".", "bearer ", "BEARER ",
    "://", "@", "xoxb-", "xapp-", "ghp_", "github_pat_", "-----BEGIN RSA PRIVATE KEY-----", "\n",
    "hunter2!", "abcdefghijklmnopqrstuvwxyz0123456789", "why is checkout crashing", "<@U0AIOPS>",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=6)), max_size=14))
@example(["ap\u0131 key", " is ", "hunter2!"])
@example(["to\u212aen", " is ", "hunter2!"])
@example(["pa\u017fsword", " is ", "hunter2!"])
@example(["secret", " is ", "hunter2!"])
@example(["pwd", " is ", "hunter2!"])
@example(["bearer ", "abcdefghijklmnopqrstuvwxyz0123456789"])
def test_the_quick_screen_never_skips_a_text_the_rules_would_change(parts: list[str]) -> None:
    """`redact` skips the twelve rules when none of their literals occurs (the ack path's common
    case); on any text — Unicode case tricks included — it must answer exactly as the full pass."""
    from app.credentials import _redact_all

    text = "".join(parts)
    assert redact(text) == _redact_all(text)
