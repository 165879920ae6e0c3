"""Shared pieces of the analyzer facts: metadata parts and LabelSelector semantics."""

from __future__ import annotations

from typing import Any

from tools.kubernetes.fields import Obj, as_dict, as_list, opt_str, str_map


def meta_parts(obj: Obj) -> tuple[Obj, Obj, Obj]:
    return as_dict(obj.get("metadata")), as_dict(obj.get("spec")), as_dict(obj.get("status"))


def base(kind: str, meta: Obj) -> Obj:
    return {
        "kind": kind,
        "name": str(meta.get("name")),
        "namespace": opt_str(meta.get("namespace")),
        "labels": str_map(meta.get("labels")),
        "annotations": str_map(meta.get("annotations")),
    }


def label_selector(value: Any) -> Obj | None:
    """A LabelSelector as {match_labels, match_expressions}; None when absent (≠ empty = everything)."""
    if not isinstance(value, dict):
        return None
    exprs = []
    for e in as_list(value.get("matchExpressions")):
        d = as_dict(e)
        exprs.append(
            {
                "key": str(d.get("key")),
                "operator": str(d.get("operator")),
                "values": [str(v) for v in as_list(d.get("values"))],
            }
        )
    return {"match_labels": str_map(value.get("matchLabels")), "match_expressions": exprs}


def selects(selector: Obj | None, labels: dict[str, str]) -> bool:
    """Kubernetes LabelSelector semantics; an empty selector selects everything, None nothing."""
    if selector is None:
        return False
    for k, v in selector["match_labels"].items():
        if labels.get(k) != v:
            return False
    for e in selector["match_expressions"]:
        key, op, values = e["key"], e["operator"], e["values"]
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }.get(op, False)
        if not ok:
            return False
    return True
