"""The router's data path as it was before its fast paths, kept as the baseline `bench/router.py`
measures against in the same run, and as the reference tests/tools/test_fast_paths.py checks
the fast paths against: every string through `clean_label`, every result copied by the scope
filter, the standard library's JSON encoder."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import tools.router
from tools import sanitize

_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def plain_clean(
    obj: Any, *, long_text_fields: frozenset[str], max_label_chars: int = sanitize.MAX_LABEL_CHARS
) -> tuple[Any, sanitize.Report]:
    report = sanitize.Report()
    return _plain(obj, None, long_text_fields, max_label_chars, report), report


def _plain(obj: Any, key: str | None, long: frozenset[str], cap: int, rep: sanitize.Report) -> Any:
    if isinstance(obj, str):
        if key is not None and sanitize.is_secret_key(key) and obj:
            rep.redactions += 1
            return sanitize.REDACTED
        if key is not None and key in long:
            text, offending, redacted = sanitize.clean_long_text(obj)
            if offending:
                rep.injections.extend(offending)
                rep.kinds.add("long_text")
            rep.redactions += redacted
            return text
        c = sanitize.clean_label(obj, cap)
        if c.injection:
            rep.injections.append(obj)
            rep.kinds.add(c.injection)
        rep.redactions += c.redacted
        rep.truncations += c.truncated
        return c.text
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        secret_env = sanitize._is_secret_env(obj)
        for n, (k, v) in enumerate(obj.items()):
            ck = sanitize.clean_label(str(k), cap)
            if ck.injection:
                rep.injections.append(str(k))
                rep.kinds.add(ck.injection)
            new_key = f"{sanitize.MARKER_INJECTION} #{n}" if ck.injection else ck.text
            if secret_env and k == "value" and isinstance(v, str) and v:
                rep.redactions += 1
                out[new_key] = sanitize.REDACTED
            else:
                out[new_key] = _plain(v, str(k), long, cap, rep)
        return out
    if isinstance(obj, list | tuple):
        return [_plain(v, key, long, cap, rep) for v in obj]
    if obj is None or isinstance(obj, bool | int | float):
        return obj
    return _plain(str(obj), key, long, cap, rep)


def stdlib_escaped_json(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.translate(_ESCAPES)


def no_one_pass(obj: Any, scope: Any, **kwargs: Any) -> Any:
    raise tools.router.NeedsFilter  # the filter, then the sanitizer, as two walks


@contextlib.contextmanager
def baseline_pipeline() -> Iterator[None]:
    """Run the router with the baseline stages swapped in (measurement only)."""
    saved = (sanitize.clean, sanitize.escaped_json, tools.router.clean_in_scope)
    sanitize.clean = plain_clean
    sanitize.escaped_json = stdlib_escaped_json
    tools.router.clean_in_scope = no_one_pass
    try:
        yield
    finally:
        (sanitize.clean, sanitize.escaped_json, tools.router.clean_in_scope) = saved
