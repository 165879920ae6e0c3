"""JSON schemas of the three Prometheus tools (inputs are the BRIEF §3 contract)."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

MAX_QUERY_CHARS = 4000
_TIME: JSON = {
    "type": ["string", "number"],
    "description": "RFC 3339, unix seconds, or now / now-1h / now-30m",
}
_NUMBER_OR_NULL: JSON = {"type": ["number", "null"]}

QUERY_INPUT: JSON = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS, "description": "PromQL"},
        "time": {**_TIME, "description": "evaluation time (default now): " + _TIME["description"]},
    },
    "required": ["query"],
    "additionalProperties": False,
}

RANGE_INPUT: JSON = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS, "description": "PromQL"},
        "start": _TIME,
        "end": _TIME,
        "step": {
            "type": ["string", "number"],
            "description": "resolution, e.g. 30s, 5m or seconds (default: ≤ 100 points over the range)",
        },
    },
    "required": ["query", "start", "end"],
    "additionalProperties": False,
}

ALERTS_INPUT: JSON = {
    "type": "object",
    "properties": {"namespace": {"type": "string", "minLength": 1, "maxLength": 253}},
    "additionalProperties": False,
}

_STATS: JSON = {
    "type": "object",
    "properties": {k: _NUMBER_OR_NULL for k in ("min", "max", "avg", "last")},
    "required": ["min", "max", "avg", "last"],
    "additionalProperties": False,
}

_SERIES: JSON = {
    "type": "object",
    "properties": {
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "namespace": {"type": "string"},
        "stats": _STATS,
        "values": {"type": "array", "maxItems": 100, "items": _NUMBER_OR_NULL},
    },
    "required": ["labels", "stats"],
    "additionalProperties": False,
}

_RESULT_PROPERTIES: JSON = {
    "query_sent": {"type": "string"},
    "result_type": {"enum": ["vector", "matrix", "scalar", "string"]},
    "series_total": {"type": "integer", "minimum": 0},
    "series": {"type": "array", "maxItems": 100, "items": _SERIES},
    "truncated": {"type": "boolean"},
    "hint": {"type": "string"},
    "value": {"type": ["number", "string", "null"]},
}

QUERY_OUTPUT: JSON = {
    "type": "object",
    "properties": {**_RESULT_PROPERTIES, "time": {"type": "string"}},
    "required": ["query_sent", "result_type", "series_total", "series", "truncated"],
    "additionalProperties": False,
}

RANGE_OUTPUT: JSON = {
    "type": "object",
    "properties": {
        **_RESULT_PROPERTIES,
        "start": {"type": "string"},
        "end": {"type": "string"},
        "step_s": {"type": "number", "exclusiveMinimum": 0},
        "timestamps": {"type": "array", "maxItems": 100, "items": {"type": "number"}},
        "graph": {"type": ["string", "null"]},
    },
    "required": [
        "query_sent", "result_type", "series_total", "series", "truncated", "start", "end", "step_s",
        "timestamps",
    ],
    "additionalProperties": False,
}

_ALERT: JSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": ["string", "null"]},
        "severity": {"type": ["string", "null"]},
        "state": {"type": "string"},
        "active_at": {"type": ["string", "null"]},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "summary": {"type": ["string", "null"]},
        "description": {"type": ["string", "null"]},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["name", "namespace", "state", "labels"],
    "additionalProperties": False,
}

ALERTS_OUTPUT: JSON = {
    "type": "object",
    "properties": {
        "alerts": {"type": "array", "maxItems": 50, "items": _ALERT},
        "total": {"type": "integer", "minimum": 0},
        "truncated": {"type": "boolean"},
    },
    "required": ["alerts", "total", "truncated"],
    "additionalProperties": False,
}
