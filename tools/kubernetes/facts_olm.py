"""Facts of Operator Lifecycle Manager objects (OLM v0 `operators.coreos.com`: Subscriptions,
CatalogSources, ClusterServiceVersions, InstallPlans, OperatorGroups; OLM v1
`olm.operatorframework.io`: ClusterCatalogs, ClusterExtensions). Same rules as facts.py: any
shape gives neutral values, never an exception. A CatalogSource's gRPC address is not kept (it
can be a pod IP)."""

from __future__ import annotations

from collections.abc import Callable

from tools.kubernetes.facts_base import base, meta_parts
from tools.kubernetes.fields import Obj, as_dict, as_list, conditions, opt_str


def subscription(obj: Obj) -> Obj:
    meta, spec, status = meta_parts(obj)
    return {
        **base("subscription", meta),
        "package": opt_str(spec.get("name")),
        "source": opt_str(spec.get("source")),
        "source_namespace": opt_str(spec.get("sourceNamespace")),
        "state": opt_str(status.get("state")),
        "installed_csv": opt_str(status.get("installedCSV")),
        "current_csv": opt_str(status.get("currentCSV")),
        "conditions": conditions(status),
    }


def catalogsource(obj: Obj) -> Obj:
    meta, spec, status = meta_parts(obj)
    connection = as_dict(status.get("connectionState"))
    return {
        **base("catalogsource", meta),
        "source_type": opt_str(spec.get("sourceType")),
        "image": opt_str(spec.get("image")),
        "state": opt_str(connection.get("lastObservedState")),
        "last_connect": opt_str(connection.get("lastConnect")),
        "reason": opt_str(status.get("reason")),
        "message": opt_str(status.get("message")),
    }


def _history(status: Obj) -> list[Obj]:
    """CSV/InstallPlan conditions, newest last as OLM appends them; CSV ones carry no `type`."""
    return [
        {
            "type": opt_str(as_dict(c).get("type")),
            "phase": opt_str(as_dict(c).get("phase")),
            "status": opt_str(as_dict(c).get("status")),
            "reason": opt_str(as_dict(c).get("reason")),
            "message": opt_str(as_dict(c).get("message")),
        }
        for c in as_list(status.get("conditions"))
    ]


def csv(obj: Obj) -> Obj:
    meta, spec, status = meta_parts(obj)
    return {
        **base("csv", meta),
        "display_name": opt_str(spec.get("displayName")),
        "phase": opt_str(status.get("phase")),
        "reason": opt_str(status.get("reason")),
        "message": opt_str(status.get("message")),
        "conditions": _history(status),
    }


def installplan(obj: Obj) -> Obj:
    meta, spec, status = meta_parts(obj)
    return {
        **base("installplan", meta),
        "csv_names": [str(n) for n in as_list(spec.get("clusterServiceVersionNames"))],
        "approval": opt_str(spec.get("approval")),
        "approved": spec.get("approved") is True,
        "phase": opt_str(status.get("phase")),
        "conditions": _history(status),
    }


def operatorgroup(obj: Obj) -> Obj:
    meta, spec, _ = meta_parts(obj)
    return {
        **base("operatorgroup", meta),
        "target_namespaces": [str(n) for n in as_list(spec.get("targetNamespaces"))],
    }


def clustercatalog(obj: Obj) -> Obj:
    meta, spec, status = meta_parts(obj)
    source = as_dict(spec.get("source"))
    return {
        **base("clustercatalog", meta),
        "availability": opt_str(spec.get("availabilityMode")),
        "image": opt_str(as_dict(source.get("image")).get("ref")),
        "conditions": conditions(status),
    }


def clusterextension(obj: Obj) -> Obj:
    meta, spec, status = meta_parts(obj)
    source = as_dict(spec.get("source"))
    catalog = as_dict(source.get("catalog"))
    return {
        **base("clusterextension", meta),
        "package": opt_str(catalog.get("packageName")),
        "source_type": opt_str(source.get("sourceType")),
        "conditions": conditions(status),
    }


OLM_FACTS: dict[str, Callable[[Obj], Obj]] = {
    "subscription": subscription,
    "catalogsource": catalogsource,
    "csv": csv,
    "installplan": installplan,
    "operatorgroup": operatorgroup,
    "clustercatalog": clustercatalog,
    "clusterextension": clusterextension,
}
