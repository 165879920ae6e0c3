"""Text as a reader sees it, for pattern matching: invisible and bidi controls dropped, NFKC,
look-alike letters (Cyrillic, Greek, Armenian, small capitals, dotless i) folded to Latin and
combining accents stripped — so `іgnоrе` (Cyrillic), `ig\u200bnore`, `𝐢𝐠𝐧𝐨𝐫𝐞` and `ìgnöre` all read
`ignore`. Used only to *detect*; the value shown is always the original.

The look-alike table is hand-picked from Unicode's confusables.txt: the letters that render like
ASCII letters in common fonts. Whole-script text (Russian) folds to nonsense Latin, which is why
detection also matches the unfolded NFKC text.
"""
# ruff: noqa: RUF001, RUF002  (look-alike letters on purpose)

from __future__ import annotations

import re
import unicodedata

# Zero-width, joiners, soft hyphen, bidi embeddings/overrides/isolates and marks, invisible math
# operators, word joiner, BOM, Mongolian vowel separator, combining grapheme joiner, Hangul fillers,
# variation selectors.
_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_SEPARATOR_RE = re.compile("[\u115f\u1160\u180e\u200b\u2062-\u2064\u3164\uffa0]")
"""Invisible characters that *separate* words (zero-width space, invisible separator, fillers)."""
_BIDI_REVERSE = frozenset("\u202e\u2067")
"""Right-to-left override/isolate: what a human sees is the stored text reversed."""
_TAG_TEXT_RE = re.compile("[\U000e0020-\U000e007e]{4,}")
"""Unicode tag characters spelling ASCII: invisible to people, readable by a model."""
SPACED_RE = re.compile(r"(?<![^\W_])(?:[^\W_][ .\-_*·|/]){3,}[^\W_](?![^\W_])")
"""`i g n o r e`, `I.G.N.O.R.E`: single letters with one separator between them."""

_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ь": "b", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Һ": "H",
    "Ӏ": "l",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g",
    # Latin look-alikes and small capitals
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɩ": "i", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g",
    "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r",
    "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
}  # fmt: skip
_FOLD_TABLE = str.maketrans(_LOOKALIKES)


def _strip_accents(text: str) -> str:
    """Drop combining diacritics (U+0300–U+036F) only: Japanese voicing marks must survive."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f"))


def reader_views(text: str) -> list[str]:
    """Distinct normalized views of non-ASCII `text` (the ASCII fast path is the caller's)."""
    views: list[str] = []

    def add(view: str) -> None:
        if view and view != text and view not in views:
            views.append(view)

    if _BIDI_REVERSE.intersection(text):
        add(_INVISIBLE_RE.sub("", text)[::-1])
    for tags in _TAG_TEXT_RE.findall(text):
        add("".join(chr(ord(c) - 0xE0000) for c in tags))
    nfkc = unicodedata.normalize("NFKC", text)
    removed = _INVISIBLE_RE.sub("", nfkc)
    add(removed)  # keeps other scripts as they are (Cyrillic, CJK patterns match here)
    add(_INVISIBLE_RE.sub("", _SEPARATOR_RE.sub(" ", nfkc)))  # invisible separators between words
    add(_INVISIBLE_RE.sub(" ", nfkc))
    folded = _strip_accents(removed.translate(_FOLD_TABLE))
    add(folded)
    return views


def spaced_out(text: str) -> str | None:
    """`i g n o r e  p r e v i o u s` → `ignore  previous`, or None when there is no such run."""
    if not SPACED_RE.search(text):
        return None
    return SPACED_RE.sub(lambda m: re.sub(r"[ .\-_*·|/]", "", m.group(0)), text)
