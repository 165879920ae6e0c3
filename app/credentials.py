"""Credentials a user types into Slack (seed: no tokens or passwords in the log).

`redact()` runs once, where a Slack message becomes a job (`JobQueue.enqueue`), so the Redis
stream, the session history, the audit row and the model only ever see the redacted text.
Patterns cover what people paste: vendor tokens with a recognisable shape, private-key blocks,
passwords inside connection strings, `password=…`-style assignments, bearer tokens and JWTs.
The value goes; the word before it stays, so the question still reads sensibly.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from app import messages
from app.jobs import Job

MARK = "[REDACTED:{kind}]"

_Rule = tuple[str, re.Pattern[str], Callable[[re.Match[str], str], str]]


def _whole(m: re.Match[str], kind: str) -> str:
    return MARK.format(kind=kind)


def _value(m: re.Match[str], kind: str) -> str:
    """Keep group 1 (the name, the `scheme://user:`), replace group 2 (the value)."""
    return m.group(1) + MARK.format(kind=kind) + (m.group(3) if m.lastindex and m.lastindex >= 3 else "")


_NAMES = (
    r"password|passwd|passphrase|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?"
    r"|secret[_-]?access[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token|private[_-]?key"
    r"|signing[_-]?secret|credentials?"
)

RULES: list[_Rule] = [
    (
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
        ),
        _whole,
    ),
    (  # greedy up to the last "@": people type passwords with "@" unencoded
        "connection_string",
        re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@<>|]*:)([^\s/<>|]+)(@)"),
        _value,
    ),
    ("slack_token", re.compile(r"\bx(?:ox[abposr]|app)-[A-Za-z0-9-]{8,}"), _whole),
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{10,}"), _whole),
    ("api_key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{20,}"), _whole),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), _whole),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), _whole),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), _whole),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}"), _whole),
    ("bearer_token", re.compile(r"(?i)(\bbearer\s+)([^\s,;]{8,})"), _value),
    (
        "password",
        re.compile(
            rf"(?i)((?<![A-Za-z0-9])(?:{_NAMES})\b[\"']?\s*(?:[:=]|=>)\s*)(\"[^\"]*\"|'[^']*'|`[^`]*`|[^\s,;]+)"
        ),
        _value,
    ),
    # "my password is hunter2": natural language, so the value must look like one (a digit or symbol)
    (
        "password",
        re.compile(
            r"(?i)((?<![A-Za-z0-9])(?:password|passwd|passphrase|pwd|secret|token|api[_ -]?key)\s+is\s+)"
            r"((?=[^\s,;]*[0-9!@#$%^&*_+=~])[^\s,;]{6,})"
        ),
        _value,
    ),
]


_NEEDLES = (
    "-----begin", "://", "xox", "xapp-", "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "akia", "asia", "aiza", "eyj", "bearer", ":", "=", "pass", "pwd", "secret", "token", "key",
)
"""Text that no rule can match contains none of these, casefolded (which also maps the letters
Python's case-insensitive matching treats as equal: long s U+017F → s, Kelvin sign → k). Every
rule needs one: its literal prefix, `:`/`=` for assignments, a name for "… is …". Most questions
hold no credential, and this check costs a fraction of the twelve substitutions (it runs on the
ack path for every event). tests/app/test_credentials.py checks `redact` equals the full pass."""


def redact(text: str) -> tuple[str, list[str]]:
    """(text with every credential replaced, the kinds found — empty when nothing was)."""
    folded = text.casefold()
    if not any(needle in folded for needle in _NEEDLES):
        return text, []
    return _redact_all(text)


def _redact_all(text: str) -> tuple[str, list[str]]:
    found: list[str] = []
    for kind, pattern, replace in RULES:

        def sub(
            m: re.Match[str], kind: str = kind, replace: Callable[[re.Match[str], str], str] = replace
        ) -> str:
            if m.group(0).startswith("[REDACTED:") or _already(m):
                return m.group(0)
            found.append(kind)
            return replace(m, kind)

        text = pattern.sub(sub, text)
    return text, sorted(set(found))


def _already(m: re.Match[str]) -> bool:
    """A value that is already a redaction mark (e.g. `password=[REDACTED:…]`) stays as it is."""
    return bool(m.lastindex and m.lastindex >= 2 and (m.group(2) or "").startswith("[REDACTED:"))


def redact_job(job: Job) -> Job:
    """The job with its text redacted (and the kinds noted, so the worker can tell the user)."""
    text, kinds = redact(job.text)
    if not kinds:
        return job
    return dataclasses.replace(job, text=text, redacted=sorted(set(kinds) | set(job.redacted or [])))


async def tell_user(*, client: Any, job: Job, thread_ts: str) -> None:
    """One short note in the thread that something was removed. Called when the answer's
    placeholder is first posted (a reclaimed job already has it, so it is said once)."""
    if not job.redacted:
        return
    kinds = ", ".join(k.replace("_", " ") for k in job.redacted)
    await client.chat_postMessage(
        channel=job.channel_id, thread_ts=thread_ts, text=messages.CREDENTIALS_REMOVED.format(kinds=kinds)
    )
