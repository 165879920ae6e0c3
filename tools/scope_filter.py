"""The router's second layer: drop list items that hold a namespace outside the scope or a value
blocked after a prompt-injection detection. The usual result, with nothing to drop, never gets
here: tools/fast_clean.py passes it in one walk and sends only the rest to `walk`."""

from __future__ import annotations

from typing import Any

from kernel.scope import EffectiveScope
from tools import sanitize


class OutOfScope(Exception):
    """A namespaced dict outside any list is out of scope: the whole result is withheld."""


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Exact types handled inline by `walk` instead of by recursion."""


def strings_of(obj: Any, *, keys: bool = True) -> list[str]:
    """Every string of a JSON value (dict keys too, unless `keys` is false). Exact types are
    told apart by identity first: a 100-pod result has thousands of nodes, and the blocklist's
    match walks all of them; subclasses still count, by the isinstance checks behind."""
    out: list[str] = []
    stack: list[Any] = [obj]
    while stack:
        cur = stack.pop()
        t = type(cur)
        if t is str:
            out.append(cur)
        elif t is dict or (t not in _SCALARS and isinstance(cur, dict)):
            if keys:
                out.extend([k for k in cur if type(k) is str or isinstance(k, str)])
            stack.extend(cur.values())
        elif t is list or t is tuple or (t not in _SCALARS and isinstance(cur, list | tuple)):
            stack.extend(cur)
        elif t not in _SCALARS and isinstance(cur, str):
            out.append(cur)
    return out


class _Odd(Exception):
    """A node of a type other than exact JSON: `unique_strings` leaves it to `strings_of`."""


def unique_strings(obj: Any) -> set[str]:
    """`set(strings_of(obj))`, keys included: what the blocklist matches a result against. One
    recursive pass over exact JSON types that skips scalars where it finds them (a third of the
    time); anything else (subclasses, tuples, non-string keys) goes the general way."""
    out: set[str] = set()
    try:
        _collect(obj, out)
    except (_Odd, RecursionError):
        return set(strings_of(obj))
    return out


def _collect(obj: Any, out: set[str]) -> None:
    t = type(obj)
    if t is dict:
        d: dict[Any, Any] = obj
        for k, v in d.items():
            if type(k) is not str:
                raise _Odd
            out.add(k)
            _collect_value(v, out)
    elif t is list:
        items: list[Any] = obj
        for v in items:
            _collect_value(v, out)
    else:
        _collect_value(obj, out)


def _collect_value(v: Any, out: set[str]) -> None:
    tv = type(v)
    if tv is str:
        out.add(v)
    elif tv is dict or tv is list:
        _collect(v, out)
    elif tv not in _SCALARS:
        raise _Odd


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
