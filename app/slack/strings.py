"""Every user-facing string of the Slack answer surface, in one place."""

from __future__ import annotations

from app.agent import texts

PLACEHOLDER = "_Looking into it…_"
EMPTY = "_(no answer)_"
AUDIT_REF = "audit ref: `{audit_id}`"
OFFLINE_TAG = " · offline mode"
EVIDENCE_PREFIX = "🔎 Evidence: "
EVIDENCE_MORE = " · and {n} more"
CONTINUED = "_(continued)_"
FEEDBACK_GOOD = "Helpful"
FEEDBACK_BAD = "Not helpful"
FEEDBACK_GOOD_LABEL = "Mark this answer as helpful"
FEEDBACK_BAD_LABEL = "Mark this answer as not helpful"
GRAPH_COMMENT = "Graphs for the answer above"
FEEDBACK_THANKS = "Thanks for the feedback — it is recorded with audit ref `{audit_id}`."
FINDINGS_TITLE = "*Findings* — each checked against the calls this investigation made"
FINDINGS_TITLE_ANALYZERS = "*Findings* — from the deterministic analyzers (offline mode)"
FINDING_HEAD = "{icon} *{severity}* · confidence: *{confidence}*"
FINDING_NEXT = "➡️ next: {text}"
FINDINGS_MORE = "_… and {n} more findings (see the audit trail or ask a follow-up)_"
FINDINGS_NONE = texts.FINDINGS_NONE
FINDINGS_UNVERIFIED = (
    "⚠️ *Not verified* — these claims cite nothing this investigation read, so they are not findings:"
)
FINDINGS_UNKNOWN = texts.FINDINGS_UNKNOWN
FINDINGS_NEXT = texts.FINDINGS_NEXT
FINDINGS_MISSING = (
    "⚠️ _No cited findings: nothing in this answer was checked against the data this investigation read._"
)
OPEN_IN_PROMETHEUS = "open in Prometheus"
GRAPH_ATTACHED = "graph attached below"
