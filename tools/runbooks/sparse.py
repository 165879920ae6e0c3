"""BM25-style sparse vectors without a model: our own tokenizer, hashed term ids, and
BM25 term-frequency saturation on the document side. Qdrant multiplies in the IDF
(collection configured with `modifier=IDF`), so together the score is BM25.

Term ids are a stable hash (blake2b → 31 bits), so the same word maps to the same id in
every process and every release; changing the tokenizer means re-ingesting.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

K1 = 1.2
B = 0.75
AVG_DOC_TOKENS = 120.0
"""Typical chunk length; fixed so a document's vector does not depend on the others."""
TITLE_WEIGHT = 2
"""Heading words count this many times: a section titled "OOMKilled" is about OOMKilled."""

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just me more most my
    no nor not now of off on once only or other our ours out over own same she should so some such
    than that the their theirs them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours""".split()
)


def _stem(token: str) -> str:
    """Very light suffix stripping: restarts/restarted/restarting → restart."""
    if len(token) <= 4 or token.isdigit():
        return token
    for suffix in ("ing", "ed", "es", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


def tokenize(text: str) -> list[str]:
    return [_stem(t) for t in _TOKEN_RE.findall(text.lower()) if t not in _STOPWORDS and len(t) < 64]


def term_id(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big") & 0x7FFFFFFF


def _to_sparse(weights: dict[int, float]) -> tuple[list[int], list[float]]:
    indices = sorted(weights)
    return indices, [weights[i] for i in indices]


def document_vector(text: str, *, title: str = "") -> tuple[list[int], list[float]]:
    tokens = tokenize(text) + tokenize(title) * TITLE_WEIGHT
    counts = Counter(term_id(t) for t in tokens)
    norm = K1 * (1 - B + B * len(tokens) / AVG_DOC_TOKENS)
    return _to_sparse({tid: tf * (K1 + 1) / (tf + norm) for tid, tf in counts.items()})


def query_vector(text: str) -> tuple[list[int], list[float]]:
    return _to_sparse({term_id(t): 1.0 for t in tokenize(text)})
