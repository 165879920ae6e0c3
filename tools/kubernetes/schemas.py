"""JSON schemas of the Kubernetes tools: inputs (the model's contract) and strict outputs.

Output schemas mirror `summarize.py` field for field with `additionalProperties: false`, so a
summary that grows a field by accident (a raw spec, an env value) fails validation in the router
instead of reaching the model.
"""

from __future__ import annotations

from typing import Any

S = dict[str, Any]

STR: S = {"type": "string"}
OPT_STR: S = {"type": ["string", "null"]}
INT: S = {"type": "integer"}
OPT_INT: S = {"type": ["integer", "null"]}
BOOL: S = {"type": "boolean"}
OPT_BOOL: S = {"type": ["boolean", "null"]}
STR_MAP: S = {"type": "object", "additionalProperties": {"type": "string"}}
STR_LIST: S = {"type": "array", "items": STR}


def obj(props: S, *, optional: tuple[str, ...] = ()) -> S:
    return {
        "type": "object",
        "properties": props,
        "required": [k for k in props if k not in optional],
        "additionalProperties": False,
    }


def nullable(schema: S) -> S:
    return {"anyOf": [schema, {"type": "null"}]}


def kind(name: str) -> S:
    return {"const": name}


CONDITIONS: S = {
    "type": "array",
    "items": obj(
        {"type": STR, "status": STR, "reason": OPT_STR, "message": OPT_STR, "last_transition": OPT_STR}
    ),
}

CONTAINER: S = obj(
    {
        "name": STR,
        "init": BOOL,
        "image": OPT_STR,
        "ready": BOOL,
        "started": OPT_BOOL,
        "restart_count": INT,
        "state": {"enum": ["running", "waiting", "terminated", "unknown"]},
        "state_reason": OPT_STR,
        "state_message": OPT_STR,
        "exit_code": OPT_INT,
        "last_termination": nullable(obj({"reason": OPT_STR, "exit_code": OPT_INT, "finished_at": OPT_STR})),
        "requests": STR_MAP,
        "limits": STR_MAP,
        "env": {
            "type": "array",
            "items": obj(
                {
                    "name": STR,
                    # the only value an env var may carry here is the redaction marker
                    "value": {"enum": ["[redacted]", None]},
                    "value_from": OPT_STR,
                }
            ),
        },
        "env_from": STR_LIST,
        "probes": STR_LIST,
    }
)

POD: S = obj(
    {
        "kind": kind("pod"),
        "name": STR,
        "namespace": STR,
        "phase": OPT_STR,
        "reason": OPT_STR,
        "message": OPT_STR,
        "node": OPT_STR,
        "owner": OPT_STR,
        "labels": STR_MAP,
        "annotations": STR_MAP,
        "created": OPT_STR,
        "started": OPT_STR,
        "deleting": BOOL,
        "conditions": CONDITIONS,
        "containers": {"type": "array", "items": CONTAINER},
    }
)

REPLICAS: S = obj({"desired": OPT_INT, "ready": INT, "available": INT, "updated": INT, "unavailable": INT})


def workload(name: str) -> S:
    return obj(
        {
            "kind": kind(name),
            "name": STR,
            "namespace": STR,
            "labels": STR_MAP,
            "owner": OPT_STR,
            "created": OPT_STR,
            "replicas": REPLICAS,
            "conditions": CONDITIONS,
            "images": STR_LIST,
            "strategy": OPT_STR,
            "selector": OPT_STR,
            "paused": BOOL,
            "revision": OPT_STR,
        }
    )


JOB: S = obj(
    {
        "kind": kind("job"),
        "name": STR,
        "namespace": STR,
        "labels": STR_MAP,
        "owner": OPT_STR,
        "active": INT,
        "succeeded": INT,
        "failed": INT,
        "completions": OPT_INT,
        "parallelism": OPT_INT,
        "backoff_limit": OPT_INT,
        "start_time": OPT_STR,
        "completion_time": OPT_STR,
        "conditions": CONDITIONS,
        "images": STR_LIST,
    }
)

CRONJOB: S = obj(
    {
        "kind": kind("cronjob"),
        "name": STR,
        "namespace": STR,
        "labels": STR_MAP,
        "schedule": OPT_STR,
        "suspend": BOOL,
        "last_schedule_time": OPT_STR,
        "last_successful_time": OPT_STR,
        "active_jobs": STR_LIST,
        "images": STR_LIST,
    }
)

SERVICE: S = obj(
    {
        "kind": kind("service"),
        "name": STR,
        "namespace": STR,
        "labels": STR_MAP,
        "type": STR,
        "selector": OPT_STR,
        "ports": {
            "type": "array",
            "items": obj(
                {
                    "name": OPT_STR,
                    "port": OPT_INT,
                    "target_port": OPT_STR,
                    "protocol": STR,
                    "node_port": OPT_INT,
                }
            ),
        },
    }
)

HPA: S = obj(
    {
        "kind": kind("hpa"),
        "name": STR,
        "namespace": STR,
        "target": STR,
        "min_replicas": OPT_INT,
        "max_replicas": OPT_INT,
        "current_replicas": OPT_INT,
        "desired_replicas": OPT_INT,
        "targets": STR_LIST,
        "current": STR_LIST,
        "conditions": CONDITIONS,
    }
)

EVENT: S = obj(
    {
        "kind": kind("event"),
        "namespace": STR,
        "type": OPT_STR,
        "reason": OPT_STR,
        "message": OPT_STR,
        "involved_object": STR,
        "count": INT,
        "first_timestamp": OPT_STR,
        "last_timestamp": OPT_STR,
        "source": OPT_STR,
    }
)

NODE: S = obj(
    {
        "kind": kind("node"),
        "name": STR,
        "ready": STR,
        "unschedulable": BOOL,
        "roles": STR_LIST,
        "kubelet_version": OPT_STR,
        "capacity": STR_MAP,
        "allocatable": STR_MAP,
        "taints": STR_LIST,
        "conditions": CONDITIONS,
    }
)

PVC: S = obj(
    {
        "kind": kind("pvc"),
        "name": STR,
        "namespace": STR,
        "phase": OPT_STR,
        "storage_class": OPT_STR,
        "requested": OPT_STR,
        "capacity": OPT_STR,
        "access_modes": STR_LIST,
        "volume": OPT_STR,
    }
)

SUMMARY_SCHEMAS: dict[str, S] = {
    "pod": POD,
    "deployment": workload("deployment"),
    "statefulset": workload("statefulset"),
    "daemonset": workload("daemonset"),
    "replicaset": workload("replicaset"),
    "job": JOB,
    "cronjob": CRONJOB,
    "service": SERVICE,
    "hpa": HPA,
    "event": EVENT,
    "node": NODE,
    "pvc": PVC,
}
ANY_SUMMARY: S = {"anyOf": list(SUMMARY_SCHEMAS.values())}
KIND_NAMES = list(SUMMARY_SCHEMAS)

# ---------------------------------------------------------------- tool inputs / outputs

# Kubernetes' own name rules: nothing that could bend a URL path ("/", "..", "%") gets through.
# `(?![\s\S])` = end of input in every regex dialect; `$` would also match before a final
# newline in Python (jsonschema) but not in ECMA-262 (fastjsonschema), see tools/schema.py.
END = r"(?![\s\S])"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?" + END
OBJECT_NAME = r"^[A-Za-z0-9]([-A-Za-z0-9._:]*[A-Za-z0-9])?" + END
NAME_IN: S = {"type": "string", "minLength": 1, "maxLength": 253, "pattern": OBJECT_NAME}

NAMESPACE_IN: S = {
    "type": "string",
    "minLength": 1,
    "maxLength": 63,
    "pattern": DNS_LABEL,
    "description": "Namespace. Omit to cover every namespace you may read.",
}
KIND_IN: S = {
    "type": "string",
    "enum": KIND_NAMES,
    "description": "Resource kind (node: cluster admins only).",
}

LIST_INPUT: S = obj(
    {
        "kind": KIND_IN,
        "namespace": NAMESPACE_IN,
        "label_selector": {
            "type": "string",
            "maxLength": 512,
            "description": "Kubernetes label selector, e.g. `app=checkout` or `tier in (web,api)`.",
        },
    },
    optional=("namespace", "label_selector"),
)
LIST_OUTPUT: S = obj(
    {
        "kind": STR,
        "namespaces": STR_LIST,
        "count": INT,
        "truncated": BOOL,
        "hint": OPT_STR,
        "items": {"type": "array", "items": ANY_SUMMARY},
    }
)

GET_INPUT: S = obj(
    {
        "kind": KIND_IN,
        "name": NAME_IN,
        "namespace": NAMESPACE_IN,
    },
    optional=("namespace",),
)
GET_OUTPUT: S = obj({"kind": STR, "item": ANY_SUMMARY})

EVENTS_INPUT: S = obj(
    {
        "namespace": NAMESPACE_IN,
        "involved_object": {
            "type": "string",
            "minLength": 1,
            "maxLength": 300,
            "description": (
                "Only events about this object: `name` or `Kind/name` (e.g. `Pod/checkout-7d9f-x2`)."
            ),
        },
    },
    optional=("namespace", "involved_object"),
)
EVENTS_OUTPUT: S = obj(
    {
        "namespaces": STR_LIST,
        "count": INT,
        "truncated": BOOL,
        "hint": OPT_STR,
        "items": {"type": "array", "items": EVENT},
    }
)

LOGS_INPUT: S = obj(
    {
        "namespace": {**NAMESPACE_IN, "description": "Namespace of the pod."},
        "pod": NAME_IN,
        "container": {
            **NAME_IN,
            "description": "Container name; defaults to the pod's default/first container.",
        },
        "tail_lines": {"type": "integer", "minimum": 1, "maximum": 500, "default": 200},
        "previous": {
            "type": "boolean",
            "default": False,
            "description": "Logs of the previous (crashed) container instance.",
        },
    },
    optional=("container", "tail_lines", "previous"),
)
LOGS_OUTPUT: S = obj(
    {
        "namespace": STR,
        "pod": STR,
        "container": STR,
        "previous": BOOL,
        # one string, newline-separated: the router sanitizes it line by line *and* as a whole,
        # so a payload split across two log lines is caught (a list would be checked per item)
        "lines": STR,
        "line_count": INT,
        "truncated": BOOL,
        "note": OPT_STR,
    }
)
