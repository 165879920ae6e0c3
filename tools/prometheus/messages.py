"""Every message the Prometheus tools return to the model, in one place.

They name the exact query and say how to correct it (the model reads them and retries).
"""

from __future__ import annotations

PARSE_ERROR = "PromQL does not parse: {error}. Query was: {query}"
OR_MATCHERS = (
    "Selectors with `or` inside braces ({a=\"b\" or c=\"d\"}) are not allowed; "
    "write two selectors joined with the `or` operator instead."
)
UNSUPPORTED_NODE = (
    "PromQL construct not supported by the namespace enforcer: {node}. Rewrite the query without it."
)
BAD_LABEL_NAME = "Label name {name!r} is not a valid Prometheus label name."
BAD_STRING = "A string in the query contains characters that cannot be encoded safely."
NO_NAMESPACES = "Your effective scope contains no namespace, so no metrics can be queried."
NAMESPACE_OUT_OF_SCOPE = (
    "The query selects namespace {namespace!r}, which is outside your scope ({scope}). "
    "Query one of your namespaces instead."
)
NAMESPACE_MATCHER_EMPTY = (
    "The query's matcher {matcher} matches none of your namespaces ({scope}), so it could only "
    "return nothing. Select one of your namespaces instead."
)
INVALID_SCOPE_NAMESPACE = (
    "Your scope holds an invalid namespace name {namespace!r}; no query was sent. Ask an admin to "
    "fix the namespace mapping."
)
VERIFY_FAILED = (
    "Internal check failed: the rewritten query could not be verified as namespace-restricted, "
    "so it was not sent."
)
BACKEND_ERROR = "Prometheus rejected the query {query!r}: {error}"
BACKEND_UNREACHABLE = "Prometheus could not be reached for query {query!r}: {error}"
BAD_TIME = (
    "Cannot read time {value!r}: use RFC 3339 (2024-05-01T12:00:00Z), unix seconds, or now-1h / now-30m."
)
BAD_STEP = "Cannot read step {value!r}: use a duration like 30s, 5m or seconds as a number."
BAD_RANGE = "The range end ({end}) must be after its start ({start})."
RANGE_TOO_LONG = "The range {start} → {end} is longer than the {max_days}-day limit; narrow it."
NOT_A_VECTOR = "The query returned a {kind}; only instant vectors, range vectors and scalars are summarized."
TRUNCATED_HINT = (
    "{total} series matched; only the top {shown} by last value are shown. "
    "Narrow the query with topk(5, …), sum by (…), or a label filter."
)
ALERT_NAMESPACE_OUT_OF_SCOPE = "Namespace {namespace!r} is outside your scope ({scope})."
GRAPH_TITLE = "{query}"
