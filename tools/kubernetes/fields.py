"""Field access for raw Kubernetes objects (JSON dicts from the API): tolerant of missing or odd
values, so a half-populated object still summarizes to something the strict schemas accept."""

from __future__ import annotations

from typing import Any

MAX_ANNOTATION_CHARS = 256
MAX_ANNOTATIONS = 20
_DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
"""A full copy of the spec as last applied: env values included."""

Obj = dict[str, Any]


def as_dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def opt_int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_dict(value).items()}


def annotation_map(meta: Obj) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in as_dict(meta.get("annotations")).items():
        if key in _DROPPED_ANNOTATIONS or len(out) >= MAX_ANNOTATIONS:
            continue
        out[str(key)] = str(value)[:MAX_ANNOTATION_CHARS]
    return out


def owner(meta: Obj) -> str | None:
    refs = as_list(meta.get("ownerReferences"))
    ref = next((r for r in refs if as_dict(r).get("controller")), refs[0] if refs else None)
    return f"{as_dict(ref).get('kind')}/{as_dict(ref).get('name')}" if ref else None


def conditions(status: Obj) -> list[Obj]:
    return [_condition(as_dict(c)) for c in as_list(status.get("conditions"))]


def _condition(c: Obj) -> Obj:
    return {
        "type": str(c.get("type")),
        "status": str(c.get("status")),
        "reason": opt_str(c.get("reason")),
        "message": opt_str(c.get("message")),
        "last_transition": opt_str(c.get("lastTransitionTime") or c.get("lastUpdateTime")),
    }


def selector_string(selector: Any) -> str | None:
    """A label selector object (or a Service's plain map) as the string `label_selector` takes."""
    sel = as_dict(selector)
    match = as_dict(sel.get("matchLabels")) if "matchLabels" in sel or "matchExpressions" in sel else sel
    parts = [f"{k}={v}" for k, v in match.items()]
    for expr in as_list(sel.get("matchExpressions")):
        e = as_dict(expr)
        op, key, values = (
            str(e.get("operator", "")),
            e.get("key"),
            ",".join(map(str, as_list(e.get("values")))),
        )
        parts.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": f"{key}"}.get(
                op, f"!{key}"
            )
        )
    return ",".join(parts) or None
