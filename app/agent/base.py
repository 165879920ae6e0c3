"""The agent contract the worker calls. (Loop implemented by the agent issue.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from app.jobs import Job
from kernel.scope import EffectiveScope
from tools.base import Artifact

if TYPE_CHECKING:
    from app.agent.findings import FindingsReport


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


@dataclass
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    def add(self, other: TokenUsage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens


@dataclass
class AgentAnswer:
    text: str
    """Final Markdown answer (recommendations already removed for viewers)."""
    usage: TokenUsage = field(default_factory=TokenUsage)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """Audit entries {tool, inputs_hash, result_hash} in call order."""
    recommendations: str | None = None
    artifacts: list[Artifact] = field(default_factory=list)
    offline: bool = False
    evidence: list[str] = field(default_factory=list)
    """Compact descriptions of the queries/resources read (PromQL strings, kind/namespace/name),
    taken from the model's tool inputs — shown in the answer's evidence line."""
    findings: FindingsReport | None = None
    """The checked, cited findings (app/agent/findings.py); None when nothing was investigated."""
    body: str | None = None
    """With `findings`: the answer without them (`text` = body + the findings as Markdown), so
    Slack can show the prose and render the findings as blocks."""


class AnswerSurface(Protocol):
    """Where the agent shows progress for one job (implemented by app/slack/reply.py)."""

    async def set_status(self, text: str) -> None: ...

    async def append(self, markdown: str) -> None: ...


class Agent(Protocol):
    async def answer(
        self, job: Job, scope: EffectiveScope, history: list[Turn], surface: AnswerSurface
    ) -> AgentAnswer: ...
