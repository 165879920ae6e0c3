"""The tool contract. A tool implements only `_invoke()`; everything else — scope,
schemas, timeout, sanitizing, XML wrapping, audit — is the router's (tools/router.py).

Adding a tool = one module in tools/ defining a `Tool` subclass + one test, and one line
in the explicit registry (tools/registry.py). No change to the router or the agent loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kernel.scope import EffectiveScope

JSON = dict[str, Any]


@dataclass(frozen=True)
class Artifact:
    """A file a tool produced for the user (e.g. a PNG graph), attached to the thread."""

    filename: str
    title: str
    content: bytes
    mime: str = "image/png"


@dataclass
class ToolContext:
    """Per-call context handed to a tool by the router. `scope` is the job's effective scope."""

    scope: EffectiveScope
    job_id: str
    session_id: str | None = None
    artifacts: list[Artifact] = field(default_factory=list)


class Tool(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    input_schema: ClassVar[JSON]
    output_schema: ClassVar[JSON]
    timeout_s: ClassVar[float] = 20.0
    namespace_arg: ClassVar[str | None] = "namespace"
    """Input field holding a namespace; the router checks it against the scope before calling."""
    long_text_fields: ClassVar[frozenset[str]] = frozenset()
    """Output keys whose string values are prose/logs (not capped at 256 chars, sanitized per line)."""
    admin_only: ClassVar[bool] = False
    """Only for scopes with cluster-wide access."""
    audit_args: ClassVar[frozenset[str]] = frozenset()
    """Input fields safe to keep verbatim in the `tool_call` audit entry (e.g. the PromQL string)."""
    audit_result_fields: ClassVar[frozenset[str]] = frozenset()
    """Output fields safe to keep verbatim there (e.g. the enforced PromQL actually sent);
    never data values — the audit keeps only a hash of the result."""

    @abstractmethod
    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        """Do the read. Must return a dict that matches `output_schema`.

        Raise a `kernel.errors.ToolError` subclass with a message for the model (name the exact
        query/arguments and how to narrow them). Blocking client libraries are called via
        `asyncio.to_thread` here, at the edge.
        """

    def catalog_entry(self) -> JSON:
        """The tool definition the model sees (Anthropic Messages `tools` item)."""
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}
