"""The seam between the tool-use loop and an LLM provider.

The loop speaks one request shape — the Anthropic Messages format (system blocks, messages whose
content holds `text` / `tool_use` / `tool_result` blocks, tools with `input_schema`) — and reads
one reply shape: an object with `content` (blocks with `.type` "text"/"tool_use"), `stop_reason`
("end_turn" | "tool_use" | "max_tokens") and `usage` (Anthropic field names). A provider streams
text through `on_text` as it arrives and returns that reply. Provider errors surface as the
SDK's own errors (Anthropic) or as `ProviderStatusError` / `ProviderConnectionError`
(others), which `app.agent.retry` handles alike. A new provider is one module implementing
`ModelClient` plus one branch in the composition root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import anthropic

JSON = dict[str, Any]
TextSink = Callable[[str], Awaitable[None]]


class ModelClient(Protocol):
    provider: str

    async def stream(self, params: JSON, on_text: TextSink) -> Any: ...


class ProviderStatusError(Exception):
    """An HTTP error status from a non-Anthropic provider. `str()` holds no secret."""

    def __init__(
        self, status_code: int, *, retry_after: float | None = None, kind: str | None = None
    ) -> None:
        super().__init__(f"HTTP {status_code}" + (f" {kind}" if kind else ""))
        self.status_code = status_code
        self.retry_after = retry_after
        self.kind = kind


class ProviderConnectionError(Exception):
    """The provider could not be reached, or the connection broke or timed out."""


class AnthropicModel:
    provider = "anthropic"

    def __init__(self, client: anthropic.AsyncAnthropic) -> None:
        # The SDK's own retries are off: app.agent.retry is the one policy, bounded by the deadline.
        # (kept as is when already so: the composition root sets a rotated key on this client)
        self._client = client if client.max_retries == 0 else client.with_options(max_retries=0)

    async def stream(self, params: JSON, on_text: TextSink) -> Any:
        async with self._client.messages.stream(**params) as stream:
            async for event in stream:
                if event.type == "text" and event.text:
                    await on_text(event.text)
            return await stream.get_final_message()
