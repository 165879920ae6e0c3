"""The router's second layer: drop list items that hold a namespace outside the scope or a value
blocked after a prompt-injection detection. `all_allowed` is the read-only pass that lets the
usual result through uncopied; `walk` is the copying filter for everything else."""

from __future__ import annotations

from typing import Any

from kernel.scope import EffectiveScope
from tools import sanitize


class OutOfScope(Exception):
    """A namespaced dict outside any list is out of scope: the whole result is withheld."""


def strings_of(obj: Any) -> list[str]:
    out: list[str] = []
    stack = [obj]
    while stack:
        cur = stack.pop()
        if isinstance(cur, str):
            out.append(cur)
        elif isinstance(cur, dict):
            out.extend(k for k in cur if isinstance(k, str))
            stack.extend(cur.values())
        elif isinstance(cur, list | tuple):
            stack.extend(cur)
    return out


def all_allowed(obj: Any, scope: EffectiveScope, blocked: set[str]) -> bool:
    """True when `walk` would change nothing: no namespace outside the scope, no blocked value.
    Read-only and iterative, so the usual result costs one pass and no allocation. Any shape it
    does not know (a dict or list subclass, an odd namespace) sends the result to `walk`."""
    if not blocked:
        return _namespaces_allowed(obj, scope)
    stack = [obj]
    pop, push = stack.pop, stack.append
    while stack:
        cur = pop()
        t = type(cur)
        if t is dict:
            if "namespace" in cur:
                ns = cur["namespace"]
                if type(ns) is not str or not scope.allows(ns):
                    return False
            for k, v in cur.items():
                tv = type(v)
                if tv is str:
                    if v in blocked:
                        return False
                elif tv is dict or tv is list:
                    push(v)
                elif tv not in _SCALARS:
                    return False
                if k in blocked:
                    return False
        elif t is list:
            for v in cur:
                tv = type(v)
                if tv is dict or tv is list:
                    push(v)
                elif tv is str:
                    if v in blocked:
                        return False
                elif tv not in _SCALARS:
                    return False
        elif t is str:
            if cur in blocked:
                return False
        elif t not in _SCALARS:
            return False
    return True


def _namespaces_allowed(obj: Any, scope: EffectiveScope) -> bool:
    """`all_allowed` with nothing blocked (the usual case): only namespaces need looking at."""
    stack = [obj]
    pop, push, scalars = stack.pop, stack.append, _SCALARS
    while stack:
        cur = pop()
        t = type(cur)
        if t is dict:
            if "namespace" in cur:
                ns = cur["namespace"]
                if type(ns) is not str or not scope.allows(ns):
                    return False
            values = cur.values()
        elif t is list:
            values = cur
        elif t in scalars:
            continue
        else:
            return False
        for v in values:
            tv = type(v)
            if tv is dict or tv is list:
                push(v)
            elif tv not in scalars:
                return False
    return True


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Exact types handled inline; anything else (dict/list subclasses too) goes through `walk`."""


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
