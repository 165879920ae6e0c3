"""The single choke point between the model and data. (Implemented by the tools issue.)

invoke(): scope → input schema → tool._invoke() (timeout) → output schema →
second-layer namespace filter → sanitize/truncate/redact → XML wrap → audit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.base import Artifact


@dataclass(frozen=True)
class ToolOutcome:
    tool_use_id: str
    name: str
    content: str
    """`<tool_result name="…">…</tool_result>`, escaped: data can never open or close a tag."""
    is_error: bool
    audit: dict[str, Any]
    """{tool, inputs_hash, result_hash} — goes into the query event's `tool_calls`."""
    artifacts: tuple[Artifact, ...] = field(default_factory=tuple)
