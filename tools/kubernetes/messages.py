"""Every message the Kubernetes tools and analyzers send back to the model (or, in offline mode,
to the user). Errors name the exact arguments and say how to correct them."""

from __future__ import annotations

NAMESPACE_DENIED = "Namespace {namespace!r} is outside your scope. You may read: {allowed}."
NO_NAMESPACES = "Your scope contains no namespace, so there is no Kubernetes data you may read."
NODES_ADMIN_ONLY = (
    "Kind 'node' is cluster-wide data, readable only by admins outside a namespace-scoped channel."
)
TOO_MANY_NAMESPACES = (
    "Your scope has {count} namespaces; {tool} without `namespace` covers at most {limit}. "
    "Call it again with `namespace` set to one of: {allowed}."
)
NAMESPACE_REQUIRED = "{kind} is namespaced: call {tool} again with `namespace` (one of: {allowed})."
NOT_FOUND = (
    '{kind} {name!r} not found in {where}. List what exists with k8s_list {{"kind": "{kind}"{ns_arg}}}.'
)
POD_NOT_FOUND = (
    "Pod {pod!r} not found in namespace {namespace!r}. "
    'List pods with k8s_list {{"kind": "pod", "namespace": "{namespace}"}}.'
)
CONTAINER_NOT_FOUND = "Pod {pod!r} has no container {container!r}; its containers are: {containers}."
BAD_SELECTOR = "label_selector {selector!r} was rejected by the API server: {detail}"
BAD_INVOLVED_OBJECT = (
    "involved_object {value!r} is not a valid `name` or `Kind/name` (letters, digits, '.', '-', ':', '_')."
)
LIST_TRUNCATED = (
    "Showing {shown} of {total} {kind} items (problems first). Narrow with `namespace` or `label_selector`."
)
EVENTS_TRUNCATED = (
    "Showing the {shown} most recent of {total} events. Narrow with `namespace` or `involved_object`."
)
LOG_CONTAINER_CHOSEN = "No container given: showing {container!r}; the pod also has: {others}."
LOG_TRIMMED = (
    "Trimmed to the newest {shown} lines ({limit_kb} KB limit); pass a smaller tail_lines to see less."
)
LOG_LINE_CUT = "…[line cut]"
