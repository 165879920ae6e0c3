"""Test helpers for the agent: scopes, a recording answer surface, and a small router.

`MiniRouter` follows the `tools.router.ToolRouter` contract (catalog/invoke → ToolOutcome with
escaped `<tool_result>` content and audit entries) over real `Tool` subclasses, until the real
router lands; it is a stand-in for a collaborator, not a patch of the code under test.
"""

from __future__ import annotations

import asyncio
import html
import json
from dataclasses import dataclass, field
from typing import Any

from kernel.audit import canonical_hash
from kernel.scope import EffectiveScope, Identity, effective_scope
from tools.base import Tool, ToolContext
from tools.router import ToolOutcome


def scope_for(role: str, namespaces: set[str] | None = None) -> EffectiveScope:
    ident = Identity(
        slack_user_id="U1",
        subject=f"sub-{role}",
        username=role,
        roles=frozenset({role}),
        namespaces=frozenset(namespaces or {"shop"}),
    )
    return effective_scope(ident, channel_id="C1", channel_namespaces=None)


@dataclass
class RecordingSurface:
    statuses: list[str] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)

    async def set_status(self, text: str) -> None:
        self.statuses.append(text)

    async def append(self, markdown: str) -> None:
        self.chunks.append(markdown)

    @property
    def streamed(self) -> str:
        return "".join(self.chunks)


class FuncTool(Tool):
    """A tool whose result is a fixed value (or computed from args)."""

    input_schema = {"type": "object"}
    output_schema = {"type": "object"}

    def __init__(self, name: str, result: Any, *, delay: float = 0.0, description: str = "test tool") -> None:
        self.name = name  # type: ignore[misc]
        self.description = description  # type: ignore[misc]
        self._result = result
        self._delay = delay
        self.calls: list[dict[str, Any]] = []
        self.active = 0
        self.max_active = 0

    async def _invoke(self, args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        self.calls.append(args)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self._delay:
                await asyncio.sleep(self._delay)
            return self._result(args) if callable(self._result) else self._result
        finally:
            self.active -= 1


class MiniRouter:
    def __init__(self, tools: list[Tool]) -> None:
        self.tools = {t.name: t for t in tools}
        self.invocations: list[tuple[str, dict[str, Any]]] = []

    def catalog(self, scope: EffectiveScope) -> list[dict[str, Any]]:
        return [t.catalog_entry() for t in self.tools.values()]

    async def invoke(
        self, name: str, args: dict[str, Any], ctx: ToolContext, tool_use_id: str
    ) -> ToolOutcome:
        self.invocations.append((name, args))
        audit = {"tool": name, "inputs_hash": canonical_hash(args)}
        tool = self.tools.get(name)
        if tool is None:
            return ToolOutcome(tool_use_id, name, f"unknown tool {name}", True, audit)
        data = await tool._invoke(args, ctx)
        body = html.escape(json.dumps(data), quote=False)
        audit["result_hash"] = canonical_hash(data)
        return ToolOutcome(
            tool_use_id, name, f'<tool_result name="{name}">{body}</tool_result>', False, audit
        )
