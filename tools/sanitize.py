"""Sanitizing tool data before the model sees it: secret redaction, prompt-injection
detection, truncation, and escaping for the `<tool_result>` wrapper.

Everything a tool returns is untrusted (metric labels, pod names, annotations, events, log
lines, runbook text). The router calls `Sanitizer.clean()` on every result; the functions
here are pure so they can be cached and tested on their own.

Detection works on a normalized copy (NFKC, zero-width characters removed, HTML entities
and percent-encoding decoded, base64-looking blobs decoded) so trivial encodings do not
slip through; the replacement always applies to the original value.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

MARKER_INJECTION = "[withheld: possible prompt injection]"
MARKER_BLOCKED = "[withheld: blocked label]"
REDACTED = "[REDACTED]"
TRUNCATED = "…[truncated]"
MAX_LABEL_CHARS = 256

# --- injection patterns ---------------------------------------------------------------
# `S` = separator: whitespace, punctuation or underscore, so `ignore-previous-instructions`
# (a valid pod name) and `IGNORE_PREVIOUS_INSTRUCTIONS` (a label value) are caught too.
S = r"[\W_]+"
_INJECTION_PATTERNS: dict[str, str] = {
    "ignore_instructions": (
        rf"\b(ignore|disregard|forget|override|bypass|skip){S}(all{S}|any{S}|the{S}|your{S}|of{S}|my{S})*"
        rf"(previous|prior|above|earlier|preceding|former|system|original|safety){S}"
        rf"(\w+{S})?(instructions?|prompts?|directions|rules|messages|guidelines|guardrails|restrictions)\b"
    ),
    "disregard_prompt": (
        rf"\b(disregard|override|ignore){S}(your|the|all){S}(\w+{S})?(prompt|rules|instructions)\b"
    ),
    "forget_everything": rf"\bforget{S}(everything|all){S}(you|that|above|before)",
    "forget_instructions": rf"\bforget{S}(all{S})?(your|the|previous|prior){S}(\w+{S})?instructions\b",
    "new_instructions": rf"\bnew{S}(system{S})?(instructions?|prompt)\b",
    "system_override": rf"\bsystem{S}override\b",
    "you_are_now": rf"\byou{S}are{S}now\b",
    "you_must_now": rf"\byou{S}(must|should|will|shall){S}now\b",
    "from_now_on": rf"\bfrom{S}now{S}on\b",
    "pretend": rf"\bpretend{S}(to{S}be|you{S}are|that)\b",
    "act_as": (
        rf"\bact{S}as{S}(an?{S}|the{S})?"
        r"(admin|administrator|root|system|developer|unrestricted|jailbroken|superuser)"
    ),
    "jailbreak": r"\bjailbr(eak|oken)",
    "dan": rf"\bdo{S}anything{S}now\b",
    "developer_mode": rf"\bdeveloper{S}mode\b",
    "system_prompt": rf"\bsystem{S}prompt\b",
    "begin_prompt": rf"\b(begin|start){S}(new{S})?(system{S})?prompt\b",
    "reveal": (
        rf"\b(reveal|print|show|output|repeat|leak){S}(me{S})?(your|the){S}(\w+{S})?(prompt|instructions)\b"
    ),
    "address_ai": (
        r"\b(ai|llm|assistant|claude|chatbot|agent)\s*[:,]\s*(please\s+)?"
        r"(execute|run|delete|call|ignore|reveal|send|grant|escalate)\b"
    ),
    "role_line": r"(^|\n)\s*(system|assistant|human|developer)\s*:(\s|$)",
    "chat_tokens": r"<\|\s*im_(start|end)\s*\|>|\[/?INST\]|<</?SYS>>",
    "tag": (
        r"<\s*/?\s*(system|assistant|human|tool_result|tool_use|tool_error|function_calls|function_results"
        r"|invoke|instructions?|prompt|im_start|im_end|data)\b"
    ),
    "script": (
        r"<\s*/?\s*(script|iframe|object|embed|svg|img)\b|\bon(error|load|click|mouseover)\s*="
        r"|javascript\s*:"
    ),
    "sql": (
        r";\s*(drop|truncate|alter)\s+(table|database|schema|user|role)\b|;\s*delete\s+from\b"
        r"|;\s*insert\s+into\b|\bunion\s+(all\s+)?select\b|'\s*or\s*'?\d+'?\s*=\s*'?\d+"
    ),
    "shell": r"\$\(|\b(curl|wget)\b[^\n|]{0,200}\|\s*(ba|z|da)?sh\b|\brm\s+-rf\s+/",
    "template": r"\{\{|\$\{|\{%",
    "exfiltrate": (
        r"\b(send|post|upload|forward|exfiltrate|leak|email)\b[^.\n]{0,40}"
        r"\b(secrets?|tokens?|credentials?|passwords?|api\s*keys?)\b[^.\n]{0,40}\b(to|at)\b"
    ),
}
_INJECTION_RE = re.compile(
    "|".join(f"(?P<{name}>{pat})" for name, pat in _INJECTION_PATTERNS.items()), re.IGNORECASE
)
_ZERO_WIDTH_RE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_B64_RUN_RE = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")


def _variants(text: str) -> list[str]:
    """The text plus normalized/decoded views an attacker could rely on the model reading."""
    out = [text]
    norm = _ZERO_WIDTH_RE.sub("", unicodedata.normalize("NFKC", text))
    if norm != text:
        out.append(norm)
    if "_" in norm:  # `\b` does not split snake_case: `you_are_now_admin`
        out.append(norm.replace("_", " "))
    if "&" in norm:
        out.append(html.unescape(norm))
    if "%" in norm:
        out.append(unquote(norm))
    for m in _B64_RUN_RE.finditer(norm):
        decoded = _b64_text(m.group(0))
        if decoded:
            out.append(decoded)
    return out


def _b64_text(blob: str) -> str | None:
    """Decode a base64 run when it decodes to mostly printable text (not a hash/digest)."""
    if len(blob) > 20_000:
        return None
    try:
        alt = b"-_" if "-" in blob or "_" in blob else None
        raw = base64.b64decode(blob + "=" * (-len(blob) % 4), altchars=alt)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(c.isprintable() or c in "\n\t" for c in text)
    return text if text and printable / len(text) > 0.95 else None


# Every pattern above needs one of these words (as a whole word) or characters; checking
# for them first skips the big regex for the common case (pod names, images, numbers).
_TRIGGER_WORDS = frozenset(
    """ignore disregard forget override bypass skip new system you from pretend act do developer
    begin start reveal print show output repeat leak ai llm assistant claude chatbot agent human
    javascript onerror onload onclick onmouseover union curl wget rm send post upload forward
    exfiltrate email""".split()
)
_TRIGGER_CHARS = frozenset("<[;'${|")
_WORD_RE = re.compile(r"[a-z]+")


def _may_inject(text: str) -> bool:
    low = text.lower()
    return (
        not _TRIGGER_CHARS.isdisjoint(low)
        or "jailbr" in low
        or not _TRIGGER_WORDS.isdisjoint(_WORD_RE.findall(low))
    )


def find_injection(text: str) -> str | None:
    """Name of the first injection pattern found in `text` (or its decoded views), else None."""
    for variant in _variants(text):
        if not _may_inject(variant):
            continue
        m = _INJECTION_RE.search(variant)
        if m:
            return m.lastgroup or "injection"
    return None


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
