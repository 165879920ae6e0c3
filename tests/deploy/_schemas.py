"""Small JSON schemas for the custom resources kubernetes-validate has no schema for, written from
each project's documented fields (Prometheus Operator monitoring.coreos.com/v1, KEDA keda.sh/v1alpha1,
External Secrets external-secrets.io/v1, Kong declarative format 3.0). Strict on what we use:
unknown fields are errors, so a typo fails here instead of being ignored by the cluster."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _obj(props: Schema, required: tuple[str, ...] = (), *, strict: bool = True) -> Schema:
    return {
        "type": "object",
        "properties": props,
        "required": list(required),
        "additionalProperties": not strict,
    }


_STR: Schema = {"type": "string", "minLength": 1}
_STRMAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
_DURATION: Schema = {"type": "string", "pattern": r"^(0|([0-9]+(ms|s|m|h|d|w|y))+)$"}
_SELECTOR: Schema = _obj(
    {
        "matchLabels": _STRMAP,
        "matchExpressions": {
            "type": "array",
            "items": _obj(
                {
                    "key": _STR,
                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
                ("key", "operator"),
            ),
        },
    }
)


def _resource(api_version: str, kind: str, spec: Schema) -> Schema:
    return _obj(
        {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": _obj(
                {"name": _STR, "namespace": _STR, "labels": _STRMAP, "annotations": _STRMAP}, ("name",)
            ),
            "spec": spec,
        },
        ("apiVersion", "kind", "metadata", "spec"),
    )


_RULE: Schema = {
    "oneOf": [
        _obj(
            {
                "alert": _STR,
                "expr": _STR,
                "for": _DURATION,
                "keep_firing_for": _DURATION,
                "labels": _STRMAP,
                "annotations": _STRMAP,
            },
            ("alert", "expr"),
        ),
        _obj({"record": _STR, "expr": _STR, "labels": _STRMAP}, ("record", "expr")),
    ]
}

PROMETHEUS_RULE = _resource(
    "monitoring.coreos.com/v1",
    "PrometheusRule",
    _obj(
        {
            "groups": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "name": _STR,
                        "interval": _DURATION,
                        "limit": {"type": "integer"},
                        "rules": {"type": "array", "minItems": 1, "items": _RULE},
                    },
                    ("name", "rules"),
                ),
            },
        },
        ("groups",),
    ),
)

SERVICE_MONITOR = _resource(
    "monitoring.coreos.com/v1",
    "ServiceMonitor",
    _obj(
        {
            "selector": _SELECTOR,
            "namespaceSelector": _obj({"any": {"type": "boolean"}, "matchNames": {"type": "array"}}),
            "jobLabel": _STR,
            "endpoints": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "port": _STR,
                        "targetPort": {"type": ["string", "integer"]},
                        "path": _STR,
                        "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
                        "interval": _DURATION,
                        "scrapeTimeout": _DURATION,
                        "tlsConfig": {"type": "object"},
                        "bearerTokenSecret": {"type": "object"},
                        "honorLabels": {"type": "boolean"},
                        "relabelings": {"type": "array"},
                        "metricRelabelings": {"type": "array"},
                    }
                ),
            },
        },
        ("selector", "endpoints"),
    ),
)

_TARGET_REF: Schema = _obj(
    {"apiVersion": _STR, "kind": _STR, "name": _STR, "envSourceContainerName": _STR}, ("name",)
)
SCALED_OBJECT = _resource(
    "keda.sh/v1alpha1",
    "ScaledObject",
    _obj(
        {
            "scaleTargetRef": _TARGET_REF,
            "pollingInterval": {"type": "integer", "minimum": 1},
            "cooldownPeriod": {"type": "integer", "minimum": 0},
            "idleReplicaCount": {"type": "integer", "minimum": 0},
            "minReplicaCount": {"type": "integer", "minimum": 0},
            "maxReplicaCount": {"type": "integer", "minimum": 1},
            "fallback": _obj({"failureThreshold": {"type": "integer"}, "replicas": {"type": "integer"}}),
            "advanced": _obj(
                {
                    "restoreToOriginalReplicaCount": {"type": "boolean"},
                    "horizontalPodAutoscalerConfig": _obj({"name": _STR, "behavior": {"type": "object"}}),
                }
            ),
            "triggers": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "type": _STR,
                        "name": _STR,
                        "metadata": _STRMAP,
                        "useCachedMetrics": {"type": "boolean"},
                        "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                        "authenticationRef": _obj(
                            {
                                "name": _STR,
                                "kind": {"enum": ["TriggerAuthentication", "ClusterTriggerAuthentication"]},
                            },
                            ("name",),
                        ),
                    },
                    ("type", "metadata"),
                ),
            },
        },
        ("scaleTargetRef", "triggers"),
    ),
)

TRIGGER_AUTHENTICATION = _resource(
    "keda.sh/v1alpha1",
    "TriggerAuthentication",
    _obj(
        {
            "secretTargetRef": {
                "type": "array",
                "items": _obj({"parameter": _STR, "name": _STR, "key": _STR}, ("parameter", "name", "key")),
            },
            "env": {"type": "array"},
            "podIdentity": {"type": "object"},
            "hashiCorpVault": _obj(
                {
                    "address": _STR,
                    "namespace": _STR,
                    "authentication": {"enum": ["token", "kubernetes"]},
                    "role": _STR,
                    "mount": _STR,
                    "credential": _obj({"token": _STR, "serviceAccount": _STR}),
                    "secrets": {
                        "type": "array",
                        "minItems": 1,
                        "items": _obj(
                            {"parameter": _STR, "key": _STR, "path": _STR, "type": _STR},
                            ("parameter", "key", "path"),
                        ),
                    },
                },
                ("address", "authentication", "secrets"),
            ),
        }
    ),
)

EXTERNAL_SECRET = _resource(
    "external-secrets.io/v1",
    "ExternalSecret",
    _obj(
        {
            "refreshInterval": _DURATION,
            "secretStoreRef": _obj(
                {"name": _STR, "kind": {"enum": ["SecretStore", "ClusterSecretStore"]}}, ("name",)
            ),
            "target": _obj(
                {
                    "name": _STR,
                    "creationPolicy": {"enum": ["Owner", "Orphan", "Merge", "None"]},
                    "deletionPolicy": {"enum": ["Delete", "Merge", "Retain"]},
                    "template": {"type": "object"},
                }
            ),
            "data": {
                "type": "array",
                "items": _obj(
                    {
                        "secretKey": _STR,
                        "remoteRef": _obj(
                            {
                                "key": _STR,
                                "property": _STR,
                                "version": _STR,
                                "conversionStrategy": _STR,
                                "decodingStrategy": _STR,
                            },
                            ("key",),
                        ),
                    },
                    ("secretKey", "remoteRef"),
                ),
            },
            "dataFrom": {"type": "array"},
        },
        ("secretStoreRef",),
    ),
)

CUSTOM_KINDS: dict[str, Schema] = {
    "PrometheusRule": PROMETHEUS_RULE,
    "ServiceMonitor": SERVICE_MONITOR,
    "ScaledObject": SCALED_OBJECT,
    "TriggerAuthentication": TRIGGER_AUTHENTICATION,
    "ExternalSecret": EXTERNAL_SECRET,
}

_KONG_PLUGIN: Schema = _obj(
    {
        "name": {
            "enum": [
                "rate-limiting",
                "request-size-limiting",
                "jwt",
                "openid-connect",
                "cors",
                "ip-restriction",
                "bot-detection",
                "acl",
            ]
        },
        "config": {"type": "object"},
        "enabled": {"type": "boolean"},
        "protocols": {"type": "array", "items": {"enum": ["http", "https", "grpc", "grpcs"]}},
    },
    ("name",),
)
_KONG_ROUTE: Schema = _obj(
    {
        "name": _STR,
        "paths": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^(~)?/"}},
        "methods": {
            "type": "array",
            "items": {"enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]},
        },
        "hosts": {"type": "array", "items": _STR},
        "protocols": {"type": "array", "minItems": 1, "items": {"enum": ["http", "https", "grpc", "grpcs"]}},
        "strip_path": {"type": "boolean"},
        "preserve_host": {"type": "boolean"},
        "https_redirect_status_code": {"enum": [426, 301, 302, 307, 308]},
        "regex_priority": {"type": "integer"},
        "plugins": {"type": "array", "items": _KONG_PLUGIN},
    },
    ("name", "paths", "protocols"),
)
KONG_DECLARATIVE: Schema = _obj(
    {
        "_format_version": {"enum": ["3.0"]},
        "_transform": {"type": "boolean"},
        "certificates": {
            "type": "array",
            "items": _obj(
                {
                    "cert": _STR,
                    "key": _STR,
                    "snis": {"type": "array", "items": _obj({"name": _STR}, ("name",))},
                },
                ("cert", "key"),
            ),
        },
        "services": {
            "type": "array",
            "minItems": 1,
            "items": _obj(
                {
                    "name": _STR,
                    "url": {"type": "string", "pattern": "^https?://"},
                    "connect_timeout": {"type": "integer"},
                    "read_timeout": {"type": "integer"},
                    "write_timeout": {"type": "integer"},
                    "retries": {"type": "integer", "minimum": 0},
                    "routes": {"type": "array", "minItems": 1, "items": _KONG_ROUTE},
                    "plugins": {"type": "array", "items": _KONG_PLUGIN},
                },
                ("name", "url", "routes"),
            ),
        },
        "consumers": {
            "type": "array",
            "items": _obj(
                {
                    "username": _STR,
                    "jwt_secrets": {
                        "type": "array",
                        "items": _obj(
                            {
                                "key": _STR,
                                "algorithm": {"enum": ["RS256", "RS384", "RS512", "ES256", "ES384", "HS256"]},
                                "rsa_public_key": _STR,
                                "secret": _STR,
                            },
                            ("key", "algorithm"),
                        ),
                    },
                },
                ("username",),
            ),
        },
        "plugins": {"type": "array", "items": _KONG_PLUGIN},
    },
    ("_format_version", "services"),
)
