"""Prompt-injection detection over untrusted tool data.

`find_injection(text)` matches instruction patterns (English, German, French, Spanish, Italian,
Portuguese, Russian, Chinese, Japanese) and markup/code injection against several *views* of the
text: as stored, NFKC with invisible/bidi characters removed, look-alike letters folded to Latin
(tools/unicode_fold.py), letters spaced out, and HTML-entity, percent and base64 decodings — so an
encoding a model would still read does not slip through.

Patterns are written for folded text: lowercase-insensitive, without accents (`precedentes`,
`instrucoes`). Operational text that merely comes close (`You should now deploy a pod network`,
`${db.url}` placeholders, `BEGIN; INSERT …`, "ignore this warning") is deliberately not matched;
tests/fixtures/ordinary_logs.py keeps the false-positive rate measured.
"""
# ruff: noqa: RUF001  (look-alike letters on purpose)

from __future__ import annotations

import base64
import binascii
import html
import re
from urllib.parse import unquote

from tools.injection_patterns import PATTERNS, TRIGGERS
from tools.unicode_fold import SPACED_RE, reader_views, spaced_out

_Gate = tuple[str, re.Pattern[str], frozenset[str], tuple[str, ...]]
_GATED: list[_Gate] = [
    (
        name,
        re.compile(pattern, re.IGNORECASE),
        frozenset(t for t in TRIGGERS[name] if t.isascii() and t.isalpha()),
        tuple(t.rstrip("*") for t in TRIGGERS[name] if not (t.isascii() and t.isalpha())),
    )
    for name, pattern in PATTERNS.items()
]
_ALL_WORDS = frozenset().union(*(words for _, _, words, _ in _GATED))
_ALL_SUBS = sorted({sub for _, _, _, subs in _GATED for sub in subs}, key=len, reverse=True)
_ASCII_SUBS_RE = re.compile("|".join(re.escape(t) for t in _ALL_SUBS if t.isascii()))
_ANY_SUB_RE = re.compile("|".join(re.escape(t) for t in _ALL_SUBS))
_ASCII_WORD_RE = re.compile(r"[a-z]+")
_WORD_RE = re.compile(r"[^\W\d_]+")
_CASE_TWINS = str.maketrans({"İ": "i", "ı": "i", "ſ": "s", "K": "k"})
"""The non-ASCII letters re.IGNORECASE matches to ASCII ones: a gate must see them the same way."""
_B64_RUN_RE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}")
"""A run starts only where the previous character cannot extend it: the same matches as without
the look-behind, but a short name is scanned once instead of once from every position."""


def triggered(view: str) -> list[tuple[str, re.Pattern[str]]]:
    """The patterns `view` holds a trigger word or characters for (the only ones that can match)."""
    low = view.lower() if view.isascii() else view.translate(_CASE_TWINS).lower()
    words = _ALL_WORDS.intersection((_ASCII_WORD_RE if low.isascii() else _WORD_RE).findall(low))
    if not words and not (_ASCII_SUBS_RE if low.isascii() else _ANY_SUB_RE).search(low):
        return []  # the common case: names, numbers, images, most log lines
    return [
        (name, rx)
        for name, rx, trigger_words, trigger_subs in _GATED
        if not trigger_words.isdisjoint(words) or any(t in low for t in trigger_subs)
    ]


def variants(text: str) -> list[str]:
    """The text plus the normalized/decoded views an attacker could rely on the model reading."""
    out = [text]
    if not text.isascii():
        out += reader_views(text)
    for view in list(out):
        spaced = spaced_out(view)
        if spaced is not None:
            out.append(spaced)
        if "_" in view:  # `\b` does not split snake_case: `you_are_now_admin`
            out.append(view.replace("_", " "))
    for view in list(out):
        decoded = []
        if "&" in view:
            decoded.append(html.unescape(view))
        if "%" in view:
            decoded.append(unquote(view))
        if len(view) >= 24:
            decoded += [d for m in _B64_RUN_RE.finditer(view) if (d := _b64_text(m.group(0)))]
        for d in decoded:
            if d != view:
                out.append(d)
                if not d.isascii():
                    out += reader_views(d)
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


_EXTRA_VIEW_RE = re.compile(r"[&%_]")
"""The characters for which `variants` adds an HTML, percent or snake_case view."""
_NOT_LOWER = str.maketrans({chr(c): " " for c in range(128) if not chr(c).islower()})
_ASCII_SUBS = tuple(t for t in _ALL_SUBS if t.isascii())
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _classes(*groups: tuple[str, str], other: str) -> dict[int, str]:
    """A translate table that maps each ASCII character to its group's letter, else `other`."""
    table = {c: other for c in range(128)}
    for chars, letter in groups:
        table.update((ord(ch), letter) for ch in chars)
    return table


_SHAPES = _classes((_ALNUM, "a"), (" .-_*|/", "s"), other=".")
"""ASCII as classes, separator "s" and [a-z0-9] "a". Every spaced-out run in lowercased ASCII
holds a separator, a letter or digit, and a separator ("sas"); most texts do not. One translate
and a substring search take a fifth of a regex's scan, which tries every offset."""
_RUN_CLASSES = _classes((_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ+/_-", "r"), other=" ")
"""ASCII as base64-run characters ("r") and the rest: a run of 24 or more, the length a
decoding view needs, is "r" * 24, found without building every run as a string."""
_LONG_RUN = "r" * 24


class Probes:
    """A cheap stand-in for `any(n in low for n in needles)` over a batch (see `Batch`) that
    may answer yes where the plain test says no, never the other way round. Each needle is
    probed by one part an occurrence of it must leave in the batch: its longest run of letters,
    looked up among the batch's distinct letter runs (with the run's edge where a non-letter
    follows or precedes it in the needle), or, for a needle without letters, its first
    character, found by a memchr over the text. A hundred pod names share a few letter runs
    (`checkout` and some hex digits), so thirty needles cost thirty lookups in a short string
    instead of thirty scans of the whole batch."""

    def __init__(self, needles: tuple[str, ...]) -> None:
        letters: dict[str, None] = {}
        chars: dict[str, None] = {}
        for needle in needles:
            runs = list(_ASCII_WORD_RE.finditer(needle))
            if not runs:
                chars[needle[0]] = None
                continue
            run = max(runs, key=lambda m: m.end() - m.start())
            head = " " if run.start() > 0 else ""  # a non-letter before it: a run starts there
            tail = " " if run.end() < len(needle) else ""  # a non-letter after it: a run ends there
            letters[head + run.group() + tail] = None
        self.letters = tuple(letters)
        self.chars = tuple(chars)

    def maybe(self, batch: Batch) -> bool:
        runs, low = batch.runs, batch.low
        return any(p in runs for p in self.letters) or any(c in low for c in self.chars)


class Batch:
    """Lowercased ASCII texts joined by NUL, the length of the longest, and the distinct maximal
    runs of `a`-`z` in them (`words`), also joined by spaces with one on either end (`runs`).
    A needle's letters lie inside one run wherever it occurs."""

    def __init__(self, low: str, longest: int) -> None:
        self.low, self.longest = low, longest
        self.words = set(low.translate(_NOT_LOWER).split())
        self.runs = " " + " ".join(self.words) + " "


_SUB_PROBES = Probes(_ASCII_SUBS)


def suspect_offsets(batch: Batch) -> list[int]:
    """Batch form of the gates `find_injection` passes a text through, for lowercased ASCII
    texts joined by NUL (which no trigger, separator or run can contain): the offsets where
    a trigger word or substring starts, or a character or run that gives a text a second view (a
    decoding, a snake_case or spaced-out reading, a base64 run). A text in which none starts has
    one view, itself, with no trigger: `find_injection` returns None for it. Each check first
    asks cheaply whether anything is there at all (a base64 run: only if a text is long enough
    to hold one); only then are offsets collected."""
    low = batch.low
    offsets = []
    if not _ALL_WORDS.isdisjoint(batch.words):
        offsets += [m.start() for m in _ASCII_WORD_RE.finditer(low) if m.group() in _ALL_WORDS]
    if _SUB_PROBES.maybe(batch):
        offsets += [m.start() for m in _ASCII_SUBS_RE.finditer(low)]
    if "&" in low or "%" in low or "_" in low:
        offsets += [m.start() for m in _EXTRA_VIEW_RE.finditer(low)]
    if "sas" in low.translate(_SHAPES):  # a separator, a letter or digit, a separator
        offsets += [m.start() for m in SPACED_RE.finditer(low)]
    if batch.longest >= len(_LONG_RUN) and _LONG_RUN in low.translate(_RUN_CLASSES):  # a base64 run
        offsets += [m.start() for m in _B64_RUN_RE.finditer(low)]
    return offsets


def find_injection(text: str) -> str | None:
    """Name of the first injection pattern found in `text` (or one of its views), else None."""
    for view in variants(text):
        for name, rx in triggered(view):
            if rx.search(view):
                return name
    return None
