"""Can a query's namespace matchers select anything in scope? Evaluated against the scope's
namespaces only (a handful of short names), so a matcher that can only return nothing is refused
with a clear message instead of a silent empty result.

Prometheus matches regexes with RE2, fully anchored, `.` matching newlines. We evaluate with the
`regex` module (close to RE2's syntax: `\\pL`, `[[:alpha:]]`, inline flags) under a time limit;
a regex it cannot compile or decide in time counts as "may match" — the query is then sent and
the enforced matcher still restricts it. This check only ever refuses, it never widens.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

REGEX_TIMEOUT_S = 0.05
"""Per namespace and matcher; a backtracking blow-up gives up here instead of hanging the worker."""


def _fullmatch(pattern: str, value: str) -> bool | None:
    """Does `pattern` (anchored) match `value`? None when it cannot be decided."""
    try:
        compiled = regex.compile(pattern, regex.DOTALL | regex.VERSION0)
        return compiled.fullmatch(value, timeout=REGEX_TIMEOUT_S) is not None
    except (regex.error, TimeoutError, ValueError, OverflowError, RecursionError):
        return None


def may_match(op: str, value: str, namespace: str) -> bool:
    """Could a series of `namespace` satisfy the matcher `namespace{op}"{value}"`?"""
    if op == "=":
        return namespace == value
    if op == "!=":
        return namespace != value
    hit = _fullmatch(value, namespace)
    if hit is None:
        return True
    return hit if op == "=~" else not hit


def first_unsatisfiable(
    matchers: Iterable[tuple[str, str]], namespaces: frozenset[str]
) -> tuple[str, str] | None:
    """The first (op, value) after which no namespace in scope is left (matchers AND), else None."""
    left = set(namespaces)
    for op, value in matchers:
        left = {ns for ns in left if may_match(op, value, ns)}
        if not left:
            return op, value
    return None
