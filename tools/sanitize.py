"""Sanitizing tool data before the model sees it: secret redaction, prompt-injection
detection, truncation, and escaping for the `<tool_result>` wrapper.

Everything a tool returns is untrusted (metric labels, pod names, annotations, events, log
lines, runbook text). The router calls `Sanitizer.clean()` on every result; the functions
here are pure so they can be cached and tested on their own.

Detection (tools/injection.py) works on normalized copies (NFKC, invisible and bidi characters
removed, look-alike letters folded, HTML entities, percent-encoding and base64 decoded) and
knows instruction phrasings in several languages; the replacement always applies to the
original value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tools import injection

MARKER_INJECTION = "[withheld: possible prompt injection]"
MARKER_BLOCKED = "[withheld: blocked label]"
REDACTED = "[REDACTED]"
TRUNCATED = "…[truncated]"
MAX_LABEL_CHARS = 256

# --- injection detection: tools/injection.py (normalized views, patterns in several languages) ---
find_injection = injection.find_injection


# --- secret redaction -----------------------------------------------------------------
_SECRET_SUBS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
     REDACTED),
    (re.compile(r"(?i)\b(authorization\s*[:=]\s*)(bearer\s+|basic\s+|token\s+)?[^\s,;\"']+"),
     rf"\1\2{REDACTED}"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),  # JWT
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), REDACTED),  # AWS access key id
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{6,}"), REDACTED),  # Slack
    (re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"), REDACTED),
    (re.compile(r"\bsk-ant-[A-Za-z0-9_-]{6,}"), REDACTED),  # Anthropic
    (re.compile(r"\bsk-[A-Za-z0-9]{20,}"), REDACTED),  # OpenAI-style
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), REDACTED),  # GitHub
    (re.compile(r"(?i)(://[^/\s:@]+:)[^/\s@]+@"), rf"\1{REDACTED}@"),  # URL credentials
    (  # KEY=value / key: value with a secret-looking key (env lines, config dumps, logs)
        re.compile(
            r"(?i)\b([\w.-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|access[_-]?key"
            r"|private[_-]?key|credentials?|aws_secret_access_key)[\w.-]*[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,;}&]+)"
        ),
        rf"\1{REDACTED}",
    ),
]
_SECRET_KEY_WORDS = (
    "password", "passwd", "secret", "token", "credential", "apikey", "api_key", "api-key",
    "privatekey", "private_key", "accesskey", "access_key", "passphrase",
)


@lru_cache(maxsize=4_096)
def is_secret_key(key: str) -> bool:
    """Is a dict key / env var name one whose value must never reach the model?"""
    k = key.lower()
    return any(w in k for w in _SECRET_KEY_WORDS) or k == "key" or k.endswith(("_key", "-key", ".key"))


# Each secret pattern contains one of these (lowercased) substrings: a cheap pre-check.
_SECRET_HINTS = (
    "-----begin", "authoriz", "bearer", "eyj", "akia", "asia", "xox", "xapp-", "sk-", "ghp_", "gho_",
    "ghu_", "ghs_", "ghr_", "://", "passw", "pwd", "secret", "token", "key", "credential",
)  # fmt: skip


@lru_cache(maxsize=65_536)
def redact_secrets(text: str) -> str:
    low = text.lower()
    if not any(h in low for h in _SECRET_HINTS):
        return text
    for pattern, repl in _SECRET_SUBS:
        text = pattern.sub(repl, text)
    return text


# --- per-value cleaning ---------------------------------------------------------------
@dataclass(frozen=True)
class Cleaned:
    text: str
    injection: str | None = None  # pattern name; the original value is the offending one
    redacted: bool = False
    truncated: bool = False


@lru_cache(maxsize=65_536)
def clean_label(text: str, max_chars: int = MAX_LABEL_CHARS) -> Cleaned:
    """A label-ish value: redact, withhold entirely on injection, cap at `max_chars`."""
    kind = find_injection(text)
    if kind:
        return Cleaned(MARKER_INJECTION, injection=kind)
    red = redact_secrets(text)
    if len(red) > max_chars:
        return Cleaned(red[: max_chars - len(TRUNCATED)] + TRUNCATED, redacted=red != text, truncated=True)
    return Cleaned(red, redacted=red != text)


def clean_long_text(text: str) -> tuple[str, list[str], bool]:
    """Prose/log text: sanitized line by line, not capped. Returns (text, offending lines, redacted).

    A payload split over several lines is caught by re-checking the joined result; then the
    whole value is withheld (fail closed).
    """
    offending: list[str] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if find_injection(line):
            offending.append(line)
            lines[i] = MARKER_INJECTION
    joined = "\n".join(lines)
    if find_injection(" ".join(lines).replace(MARKER_INJECTION, " ")):
        return MARKER_INJECTION, offending or [text], False
    red = redact_secrets(joined)
    return red, offending, red != joined


@dataclass
class Report:
    """What one `clean()` pass found; offending values feed the blocklist."""

    injections: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    redactions: int = 0
    truncations: int = 0


def clean(
    obj: Any, *, long_text_fields: frozenset[str], max_label_chars: int = MAX_LABEL_CHARS
) -> tuple[Any, Report]:
    """Sanitize every string (and dict key) of a JSON value. Returns (new value, report)."""
    report = Report()
    return _clean(obj, None, long_text_fields, max_label_chars, report), report


def _clean(obj: Any, key: str | None, long: frozenset[str], cap: int, rep: Report) -> Any:
    if isinstance(obj, str):
        if key is not None and is_secret_key(key) and obj:
            rep.redactions += 1
            return REDACTED
        if key is not None and key in long:
            text, offending, redacted = clean_long_text(obj)
            if offending:
                rep.injections.extend(offending)
                rep.kinds.add("long_text")
            rep.redactions += redacted
            return text
        c = clean_label(obj, cap)
        if c.injection:
            rep.injections.append(obj)
            rep.kinds.add(c.injection)
        rep.redactions += c.redacted
        rep.truncations += c.truncated
        return c.text
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        secret_env = _is_secret_env(obj)
        for n, (k, v) in enumerate(obj.items()):
            ck = clean_label(str(k), cap)
            if ck.injection:
                rep.injections.append(str(k))
                rep.kinds.add(ck.injection)
                new_key = f"{MARKER_INJECTION} #{n}"
            else:
                new_key = ck.text
            if secret_env and k == "value" and isinstance(v, str) and v:
                rep.redactions += 1
                out[new_key] = REDACTED
            else:
                out[new_key] = _clean(v, str(k), long, cap, rep)
        return out
    if isinstance(obj, list | tuple):
        return [_clean(v, key, long, cap, rep) for v in obj]
    if obj is None or isinstance(obj, bool | int | float):
        return obj
    # Anything else would reach the model as json.dumps(default=str): sanitize that string.
    return _clean(str(obj), key, long, cap, rep)


def _is_secret_env(d: dict[str, Any]) -> bool:
    """`{"name": "DB_PASSWORD", "value": "…"}` — Kubernetes env var shape."""
    name = d.get("name")
    return isinstance(name, str) and "value" in d and is_secret_key(name)


# --- wrapping -------------------------------------------------------------------------
_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def escaped_json(obj: Any) -> str:
    """JSON with `<`, `>`, `&` as \\u escapes: still valid JSON, but can never form a tag."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str).translate(_ESCAPES)


def wrap(name: str, obj: Any, *, error: bool = False) -> str:
    tag = "tool_error" if error else "tool_result"
    body = escaped_json(obj)
    if not body.isascii():  # lone surrogates cannot be sent (or hashed) as UTF-8: replace them
        body = body.encode("utf-8", "replace").decode("utf-8")
    return f'<{tag} name="{name}">{body}</{tag}>'
