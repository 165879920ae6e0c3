"""The router's second layer: drop list items that hold a namespace outside the scope or a value
blocked after a prompt-injection detection. The usual result, with nothing to drop, never gets
here: tools/fast_clean.py passes it in one walk and sends only the rest to `walk`."""

from __future__ import annotations

from typing import Any

from kernel.scope import EffectiveScope
from tools import sanitize


class OutOfScope(Exception):
    """A namespaced dict outside any list is out of scope: the whole result is withheld."""


def strings_of(obj: Any, *, keys: bool = True) -> list[str]:
    """Every string of a JSON value (dict keys too, unless `keys` is false)."""
    out: list[str] = []
    stack = [obj]
    while stack:
        cur = stack.pop()
        if isinstance(cur, str):
            out.append(cur)
        elif isinstance(cur, dict):
            if keys:
                out.extend(k for k in cur if isinstance(k, str))
            stack.extend(cur.values())
        elif isinstance(cur, list | tuple):
            stack.extend(cur)
    return out


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Exact types handled inline by `walk` instead of by recursion."""


def walk(
    obj: Any, scope: EffectiveScope, blocked: set[str], counts: list[int], *, in_list: bool
) -> tuple[Any, bool, bool]:
    """Returns (value, out_of_scope, blocked). Flags bubble up to the nearest list item, which
    is dropped; an out-of-scope dict outside every list raises `OutOfScope`.
    (Hot path: scalars are handled inline instead of by recursion.)"""
    if isinstance(obj, str):
        return (sanitize.MARKER_BLOCKED, False, True) if obj in blocked else (obj, False, False)
    if isinstance(obj, list | tuple):
        kept = []
        for item in obj:
            if type(item) in _SCALARS:
                value, oos, blk = item, False, item in blocked
            else:
                value, oos, blk = walk(item, scope, blocked, counts, in_list=True)
            if oos:
                counts[0] += 1
            elif blk:
                counts[1] += 1
            else:
                kept.append(value)
        return kept, False, False
    if isinstance(obj, dict):
        oos = blk = False
        if "namespace" in obj:
            ns = obj["namespace"]
            if isinstance(ns, str) or (ns is None and in_list):
                oos = not scope.allows(ns)
            elif ns is not None:
                oos = True  # a namespace that is not a string cannot be checked: fail closed
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if key in blocked:
                blk = True
            if type(value) in _SCALARS:
                if value in blocked:
                    out[key], blk = sanitize.MARKER_BLOCKED, True
                else:
                    out[key] = value
            else:
                new, child_oos, child_blk = walk(value, scope, blocked, counts, in_list=in_list)
                oos, blk = oos or child_oos, blk or child_blk
                out[key] = new
        if oos and not in_list:
            raise OutOfScope
        return out, oos, blk
    return obj, False, False
