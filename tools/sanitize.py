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
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from typing import Any, NamedTuple

import orjson

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
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
        REDACTED,
    ),
    (
        re.compile(r"(?i)\b(authorization\s*[:=]\s*)(bearer\s+|basic\s+|token\s+)?[^\s,;\"']+"),
        rf"\1\2{REDACTED}",
    ),
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
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "apikey",
    "api_key",
    "api-key",
    "privatekey",
    "private_key",
    "accesskey",
    "access_key",
    "passphrase",
)

_SECRET_KEY_RE = re.compile("|".join(re.escape(w) for w in _SECRET_KEY_WORDS))
"""Any of the words as a substring, in one scan."""


@lru_cache(maxsize=4_096)
def is_secret_key(key: str) -> bool:
    """Is a dict key / env var name one whose value must never reach the model?"""
    k = key.lower()
    return _SECRET_KEY_RE.search(k) is not None or k == "key" or k.endswith(("_key", "-key", ".key"))


# Each secret pattern contains one of these (lowercased) substrings: a cheap pre-check.
_SECRET_HINTS = (
    "-----begin", "authoriz", "bearer", "eyj", "akia", "asia", "xox", "xapp-", "sk-", "ghp_", "gho_",
    "ghu_", "ghs_", "ghr_", "://", "passw", "pwd", "secret", "token", "key", "credential",
)  # fmt: skip


_SECRET_HINT_RE = re.compile("|".join(re.escape(h) for h in _SECRET_HINTS), re.IGNORECASE)
"""The hints as one scan instead of one `in` per hint (most strings are names and numbers)."""
_SECRET_HINT_LOWER_RE = re.compile("|".join(re.escape(h) for h in _SECRET_HINTS))
"""The same scan over lowercased ASCII text: several times faster than IGNORECASE, and exact there
(IGNORECASE differs from lowercasing only on non-ASCII letters such as the long s)."""


@lru_cache(maxsize=65_536)
def redact_secrets(text: str) -> str:
    if text.isascii():
        if not _SECRET_HINT_LOWER_RE.search(text.lower()):
            return text
    elif not _SECRET_HINT_RE.search(text):
        return text
    for pattern, repl in _SECRET_SUBS:
        text = pattern.sub(repl, text)
    return text


# --- per-value cleaning ---------------------------------------------------------------
class Cleaned(NamedTuple):
    """A tuple, not a frozen dataclass: built for every new string, and a third of the cost."""

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


def label(text: str, max_chars: int) -> Cleaned:
    """`clean_label`, and a string it leaves unchanged joins `_CLEAN` — here, not inside the
    cached function, so that after `_CLEAN` was emptied a string the cache still holds comes back."""
    c = clean_label(text, max_chars)
    if c.text == text and not c.injection:
        _remember_clean(text)
    return c


_CLEAN: set[str] = set()
"""Strings with no injection and nothing to redact, at most MAX_LABEL_CHARS long and not a
secret-key name. The walks over a result test membership (and, under a smaller cap, the length)
before calling anything: names, images and condition types repeat across items and calls. As
no member is a secret-key name, a member used as a dict key never calls for redaction."""
_CLEAN_MAX = 65_536


_CLEAN_NAMES: set[str] = set()
"""Secret-key names (`DB_PASSWORD`) that `clean_label` leaves unchanged, at most MAX_LABEL_CHARS
long: clean as a value (an env entry's name, which every pod repeats), never as a key (a value
under them is redacted), so kept apart from `_CLEAN`."""
_CLEAN_NAMES_MAX = 4_096


def _remember_clean(text: str) -> None:
    if len(text) > MAX_LABEL_CHARS:
        return
    if is_secret_key(text):
        if len(_CLEAN_NAMES) >= _CLEAN_NAMES_MAX:
            _CLEAN_NAMES.clear()
        _CLEAN_NAMES.add(text)
        return
    if len(_CLEAN) >= _CLEAN_MAX:
        _CLEAN.clear()  # bounded memory; the hot strings come back on the next results
    _CLEAN.add(text)


_HINT_PROBES = injection.Probes(_SECRET_HINTS)
_KEY_PROBES = injection.Probes(_SECRET_KEY_WORDS)


def learn_clean(texts: list[str]) -> None:
    """Vouch for many new strings in one scan: those that `clean_label` would return unchanged
    under any cap from MAX_LABEL_CHARS up, and that are no secret-key name, join `_CLEAN`. The
    checks are `clean_label`'s own gates run once over all the texts (lowercased, joined by NUL):
    a text in which no injection trigger, extra view, secret hint or secret-key word starts is
    clean. Whatever they cannot vouch for (non-ASCII, over-long, anything suspect) is left to
    `clean_label`, which decides it alone as before."""
    texts = list(dict.fromkeys(texts))
    joined, longest = "\0".join(texts), max(map(len, texts), default=0)
    if longest > MAX_LABEL_CHARS or not joined.isascii() or joined.count("\0") != len(texts) - 1:
        texts = [t for t in texts if len(t) <= MAX_LABEL_CHARS and t.isascii() and "\0" not in t]
        joined, longest = "\0".join(texts), max(map(len, texts), default=0)
    if not texts:
        return
    batch = injection.Batch(joined.lower(), longest)
    offsets = injection.suspect_offsets(batch)
    for probes, rx in ((_HINT_PROBES, _SECRET_HINT_LOWER_RE), (_KEY_PROBES, _SECRET_KEY_RE)):
        if probes.maybe(batch):  # only then find where (most batches hold none)
            offsets += [m.start() for m in rx.finditer(batch.low)]
    vouched = texts
    if offsets:
        starts = list(accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
        suspect = {bisect_right(starts, o) - 1 for o in offsets}
        vouched = [t for i, t in enumerate(texts) if i not in suspect]
    if len(_CLEAN) + len(vouched) > _CLEAN_MAX:
        _CLEAN.clear()  # bounded memory, as in `_remember_clean`
    _CLEAN.update(vouched)


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


_PLAIN = frozenset({int, float, bool, type(None)})
"""Exact types that pass through unchanged (subclasses take the slow path via `str()`)."""


def _clean(obj: Any, key: str | None, long: frozenset[str], cap: int, rep: Report) -> Any:
    # Hot path (every tool result): the type is dispatched once per node and scalars are
    # handled inline, since a 100-pod result has thousands of nodes and calls dominate.
    t = type(obj)
    if t is str:
        return _clean_str(obj, key, long, cap, rep)
    if t is dict:
        return _clean_dict(obj, long, cap, rep)
    if t is list or t is tuple:
        return [v if type(v) in _PLAIN else _clean(v, key, long, cap, rep) for v in obj]
    if t in _PLAIN:
        return obj
    if isinstance(obj, dict):
        return _clean_dict(obj, long, cap, rep)
    if isinstance(obj, list | tuple):
        return [_clean(v, key, long, cap, rep) for v in obj]
    # Anything else would reach the model as json.dumps(default=str): sanitize that string.
    return _clean_str(str(obj), key, long, cap, rep)


def _clean_str(text: str, key: str | None, long: frozenset[str], cap: int, rep: Report) -> str:
    if key is None and text in _CLEAN and len(text) <= cap:
        return text
    if key is not None:
        if text and is_secret_key(key):
            rep.redactions += 1
            return REDACTED
        if key in long:
            cleaned, offending, redacted = clean_long_text(text)
            if offending:
                rep.injections.extend(offending)
                rep.kinds.add("long_text")
            rep.redactions += redacted
            return cleaned
    c = label(text, cap)
    if c.injection:
        rep.injections.append(text)
        rep.kinds.add(c.injection)
    elif c.redacted or c.truncated:
        rep.redactions += c.redacted
        rep.truncations += c.truncated
    return c.text


def _clean_dict(obj: dict[Any, Any], long: frozenset[str], cap: int, rep: Report) -> dict[str, Any]:
    out: dict[str, Any] = {}
    clean_set, plain, secret_key = _CLEAN, _PLAIN, is_secret_key  # locals: this loop is hot
    name = obj.get("name")
    secret_env = type(name) is str and "value" in obj and secret_key(name)
    for k, v in obj.items():
        sk = k if type(k) is str else str(k)
        if sk in clean_set and len(sk) <= cap:
            new_key = sk
        else:
            ck = label(sk, cap)
            if ck.injection:
                rep.injections.append(sk)
                rep.kinds.add(ck.injection)
                new_key = f"{MARKER_INJECTION} #{len(out)}"
            else:
                new_key = ck.text
        tv = type(v)
        if tv in plain:
            out[new_key] = v
        elif secret_env and k == "value" and isinstance(v, str) and v:
            rep.redactions += 1
            out[new_key] = REDACTED
        elif tv is str and v in clean_set and len(v) <= cap and sk not in long and not secret_key(sk):
            out[new_key] = v
        else:
            out[new_key] = _clean(v, sk, long, cap, rep)
    return out


def _is_secret_env(d: dict[str, Any]) -> bool:
    """`{"name": "DB_PASSWORD", "value": "…"}` — Kubernetes env var shape."""
    name = d.get("name")
    return isinstance(name, str) and "value" in d and is_secret_key(name)


# --- wrapping -------------------------------------------------------------------------
def escaped_json(obj: Any) -> str:
    """JSON with `<`, `>`, `&` as \\u escapes: still valid JSON, but can never form a tag."""
    try:  # orjson: a tenth of the stdlib's time on a 100-pod result, same compact output
        raw = orjson.dumps(obj, default=str)
    except TypeError:  # lone surrogates, integers beyond 64 bits, non-string keys
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
        return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    # on the UTF-8 bytes: bytes.replace finds no `&` in 50 kB in a tenth of str.replace's time
    # (the three characters are ASCII, so no multi-byte character can hold one)
    return raw.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e").decode()


def wrap(name: str, obj: Any, *, error: bool = False) -> str:
    tag = "tool_error" if error else "tool_result"
    body = escaped_json(obj)
    if not body.isascii():  # lone surrogates cannot be sent (or hashed) as UTF-8: replace them
        body = body.encode("utf-8", "replace").decode("utf-8")
    return f'<{tag} name="{name}">{body}</{tag}>'
