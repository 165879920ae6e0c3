"""Kubernetes label and field selector semantics, as the API server applies them to list calls."""

from __future__ import annotations

import re
from typing import Any

_REQ = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9._/-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<val>[A-Za-z0-9._-]*)|\s(?P<setop>in|notin)\s*\((?P<set>[^)]*)\)|)\s*$"
)


class SelectorError(ValueError):
    pass


def _split_requirements(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def label_selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics: =, ==, !=, in, notin, exists, !exists."""
    for req in _split_requirements(selector):
        m = _REQ.match(req)
        if not m or (m["neg"] and (m["op"] or m["setop"])):
            raise SelectorError(f"unable to parse requirement: {req.strip()!r}")
        key, present = m["key"], m["key"] in labels
        value = labels.get(key)
        if m["op"] in ("=", "=="):
            ok = value == m["val"]
        elif m["op"] == "!=":
            ok = value != m["val"]
        elif m["setop"]:
            values = {v.strip() for v in m["set"].split(",") if v.strip()}
            ok = value in values if m["setop"] == "in" else value not in values
        else:
            ok = not present if m["neg"] else present
        if not ok:
            return False
    return True


def field_selector_matches(selector: str, obj: dict[str, Any]) -> bool:
    """`a.b=v`, `a.b==v`, `a.b!=v` over dotted paths (metadata.name, involvedObject.name, …)."""
    for req in _split_requirements(selector):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", req)
        if not m:
            raise SelectorError(f"invalid field selector: {req.strip()!r}")
        cur: Any = obj
        for part in m[1].split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        actual = "" if cur is None else str(cur)
        if (actual == m[3]) != (m[2] != "!="):
            return False
    return True
