"""Helpers for the router tests: real `Tool` subclasses that record their calls, scope
builders going through `effective_scope()`, and a decoder for wrapped content."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from kernel.scope import EffectiveScope, Identity, effective_scope
from tools.base import JSON, Artifact, Tool, ToolContext

ITEM = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": ["string", "null"]},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "log": {"type": "string"},
        "value": {"type": "number"},
    },
    "required": ["name", "namespace"],
    "additionalProperties": True,
}


def scope(
    roles: set[str] | frozenset[str] = frozenset({"viewer"}),
    namespaces: set[str] | frozenset[str] = frozenset({"shop"}),
    *,
    channel_namespaces: frozenset[str] | None = None,
    sub: str = "kc-sub-1",
) -> EffectiveScope:
    ident = Identity(
        slack_user_id="U1",
        subject=sub,
        username="alice",
        roles=frozenset(roles),
        namespaces=frozenset(namespaces),
    )
    return effective_scope(ident, channel_id="C1", channel_namespaces=channel_namespaces)


class ListTool(Tool):
    """A namespaced list tool whose output is whatever the test sets; it records every call."""

    name: ClassVar[str] = "fake_list"
    description: ClassVar[str] = "List fake things in a namespace."
    input_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {"namespace": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
        "additionalProperties": False,
    }
    output_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": ITEM}, "note": {"type": "string"}},
        "required": ["items"],
    }
    long_text_fields: ClassVar[frozenset[str]] = frozenset({"log"})
    timeout_s: ClassVar[float] = 5.0

    def __init__(self, output: JSON | None = None) -> None:
        self.calls: list[JSON] = []
        self.output: JSON = output if output is not None else {"items": []}
        self.behaviour: Callable[[JSON, ToolContext], Awaitable[JSON]] | None = None

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        self.calls.append(dict(args))
        if self.behaviour is not None:
            return await self.behaviour(args, ctx)
        return self.output


class AdminTool(ListTool):
    name: ClassVar[str] = "fake_nodes"
    description: ClassVar[str] = "Cluster-wide fake nodes."
    admin_only: ClassVar[bool] = True
    namespace_arg: ClassVar[str | None] = None


class GraphTool(ListTool):
    name: ClassVar[str] = "fake_graph"
    description: ClassVar[str] = "Returns items and a graph."

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        ctx.artifacts.append(Artifact(filename="g.png", title="graph", content=b"\x89PNG"))
        return await super()._invoke(args, ctx)


async def hang(args: JSON, ctx: ToolContext) -> JSON:
    await asyncio.Event().wait()  # never set: only the router's timeout ends this
    return {}


_WRAP_RE = re.compile(r'\A<(tool_result|tool_error) name="([A-Za-z0-9_-]+)">(.*)</\1>\Z', re.S)


def unwrap(content: str) -> tuple[str, str, Any]:
    """(tag, name, decoded JSON) of a wrapped outcome; asserts the wrapper is the only markup."""
    m = _WRAP_RE.match(content)
    assert m, content[:200]
    body = m.group(3)
    assert "<" not in body and ">" not in body
    return m.group(1), m.group(2), json.loads(body)
