"""Hostile JSON is a client error, never a 500.

CPython's `json` recurses once per nesting level: a body of 100 k brackets raises
`RecursionError` (and a 5,000-digit number `ValueError`) inside whichever library parses it.
`too_deep()` refuses such a body before anyone parses it — in one regex pass that only looks
at brackets outside strings, and only when the body has more brackets than the limit at all
(so an ordinary event costs two `bytes.count` calls). `loads()` is `json.loads` that turns
every parse failure into `JsonRefused` with a reason fit for a 400 body.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 100
"""Deeper than anything Slack or Alertmanager sends (rich-text blocks nest about 8 levels)."""

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPEN = frozenset(b"[{")


class JsonRefused(ValueError):
    """The body is not acceptable JSON; `str()` is the reason (safe to show the sender)."""


def too_deep(body: bytes | str, max_depth: int = MAX_DEPTH) -> bool:
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if len(token) != 1:
            continue  # a string: brackets inside it do not nest
        if token[0] in _OPEN:
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def loads(body: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    if too_deep(body, max_depth):
        raise JsonRefused(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(body)
    except (RecursionError, UnicodeDecodeError, ValueError) as exc:
        # ValueError covers JSONDecodeError and the int-digits limit
        reason = (
            "body is not valid JSON"
            if isinstance(exc, json.JSONDecodeError)
            else "body is not acceptable JSON"
        )
        raise JsonRefused(reason) from None
