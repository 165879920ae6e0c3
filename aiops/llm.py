"""The LLM provider client, built once by the composition root (Anthropic or any
OpenAI-compatible server), with AIOPS_CA_BUNDLE and key rotation wired in."""

from __future__ import annotations

from typing import Any

from aiops.tls import llm_tls
from app.agent.model import ModelClient
from app.config import Secrets, Settings
from app.secrets_watch import SecretsWatcher


def build_model_client(
    settings: Settings, secrets: Secrets, watcher: SecretsWatcher | None = None
) -> ModelClient | None:
    """The configured LLM provider, or None without its key: offline mode, which says so.
    Built with max_retries=0 (app.agent.retry is the one policy), so the model keeps this very
    client and a rotated key (set on it by the secrets watcher) is used by the next request."""
    if settings.llm_provider == "openai":
        if secrets.openai_api_key is None:
            return None
        from openai import AsyncOpenAI

        from app.agent.openai_model import OpenAIModel

        openai_client = AsyncOpenAI(
            api_key=secrets.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            max_retries=0,
            **llm_tls(settings, "openai"),
        )
        _rotate(watcher, "openai_api_key", openai_client)
        return OpenAIModel(openai_client)
    if secrets.anthropic_api_key is None:
        return None
    from anthropic import AsyncAnthropic

    from app.agent.model import AnthropicModel

    client = AsyncAnthropic(
        api_key=secrets.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url,
        max_retries=0,
        **llm_tls(settings, "anthropic"),
    )
    _rotate(watcher, "anthropic_api_key", client)
    return AnthropicModel(client)


def _rotate(watcher: SecretsWatcher | None, name: str, client: Any) -> None:
    if watcher is not None:
        watcher.subscribe(lambda _name, value: setattr(client, "api_key", value), name)
