"""Every user-facing string the agent produces (Slack text), in one place for tone."""

from __future__ import annotations

OFFLINE_HEADER = (
    "⚠️ *Offline mode — Claude unavailable: {reason}.* "
    "This answer comes from the deterministic analyzers and the firing alerts for {scope}; "
    "nothing here was written by a language model."
)
OFFLINE_REASON_NO_KEY = "no Anthropic API key is configured"
OFFLINE_REASON_DOWN = "the Anthropic API did not answer ({detail})"
OFFLINE_NO_FINDINGS = "The analyzers found no problems and no alerts are firing in this scope."
OFFLINE_NO_TOOLS = "No analyzers are available in this deployment, so there is nothing to report offline."
OFFLINE_FINDINGS = "*Analyzer findings*"
OFFLINE_ALERTS = "*Firing alerts*"
OFFLINE_TOOL_FAILED = "_The {tool} check failed: {error}_"
OFFLINE_FOCUS = "*About {focus}*"
OFFLINE_ALSO = "*Also in your scope*"
OFFLINE_MORE = "• … and {count} more"
OFFLINE_NOTHING_IN_NAMESPACE = (
    "Nothing wrong found in namespace `{namespace}`: no analyzer finding and no firing alert."
)
OFFLINE_NOTHING_FOR_NAME = (
    "Nothing wrong found for `{name}` (looked in {where}): no analyzer finding and no firing alert."
)
OFFLINE_OUT_OF_SCOPE = (
    "⛔ You cannot see namespace `{namespace}` — your scope here is {scope}. "
    "Ask an admin if you need access."
)

BUDGET_EXCEEDED = (
    "You have used your daily allowance of {budget:,} model tokens, so I can't start a new "
    "investigation today. It resets at 00:00 UTC — ask an admin if you need more."
)
NO_QUERY_ACCESS = (
    "You don't have access to any namespace here, so there is nothing I can look at for you. "
    "Run `/aiops whoami` to see your roles and namespaces."
)
ROUND_LIMIT_NOTE = (
    "_I stopped after {rounds} investigation rounds; this is the best answer from what I found so far._"
)
DEADLINE_NOTE = (
    "_I ran out of time for this investigation; this is the best answer from what I found so far._"
)
EMPTY_ANSWER = "I could not reach a conclusion from the data I was able to read."
VIEWER_REMOVED_NOTE = "_Recommendations are only shown to analysts and admins._"

STATUS_THINKING = "Thinking…"
STATUS_WRITING = "Writing the answer…"
STATUS_OFFLINE = "Claude is unavailable — running the analyzers…"
TOOL_STATUS = {
    "prometheus_query": "Querying Prometheus…",
    "prometheus_range_query": "Querying Prometheus…",
    "prometheus_alerts": "Checking firing alerts…",
    "k8s_list": "Listing Kubernetes resources…",
    "k8s_get": "Reading Kubernetes resources…",
    "k8s_events": "Reading Kubernetes events…",
    "k8s_pod_logs": "Reading pod logs…",
    "runbook_search": "Searching runbooks…",
    "analyze": "Running analyzers…",
}
TOOL_STATUS_DEFAULT = "Gathering data…"


def tool_status(names: list[str]) -> str:
    """One status line for a round of (possibly parallel) tool calls."""
    seen: list[str] = []
    for n in names:
        s = TOOL_STATUS.get(n, TOOL_STATUS_DEFAULT)
        if s not in seen:
            seen.append(s)
    return " ".join(seen) if seen else STATUS_THINKING

TOOLS_PAUSED = (
    ":double_vertical_bar: Investigations are paused by the platform team: I can't query "
    "metrics, Kubernetes or runbooks right now. Please try again later or ask in the platform channel."
)

# Cited findings (app/agent/findings.py)
FINDINGS_HEADING = "*Findings*"
FINDINGS_NONE = "*No finding is supported by the data this investigation read.*"
FINDINGS_UNKNOWN = "*Unknown:* {text}"
FINDINGS_NEXT = "*Check next:*"
FINDINGS_UNKNOWN_DEFAULT = "the cause: none of the data read in this investigation shows it."
FINDINGS_NEXT_DEFAULT = (
    "the affected workload's pods and recent events (`analyze`), its logs, and its error-rate and "
    "restart metrics over the last hour"
)
FINDING_REFS_DROPPED = "confidence lowered: {n} of its references did not match this investigation's data"
OFFLINE_FINDINGS_UNKNOWN = "the analyzers found no fault here; anything they do not check is not covered."
