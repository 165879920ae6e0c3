"""Every user-facing string of the Slack answer surface, in one place."""

from __future__ import annotations

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
