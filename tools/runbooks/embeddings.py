"""Dense embeddings from an OpenAI-compatible endpoint (`POST {url}/embeddings`).

Optional: configured by `AIOPS_EMBEDDINGS_URL` / `AIOPS_EMBEDDINGS_MODEL`, key from the secret
file `embeddings_api_key` (sent as a bearer token when present; local servers often need none).
Every failure is a `BackendError` whose message names the status or the problem, never the URL
(it may carry credentials) nor the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Protocol

import aiohttp
from pydantic import SecretStr

from kernel.errors import BackendError

BATCH_SIZE = 64
"""Inputs per request: well under providers' per-request limits (OpenAI: 2048)."""
TIMEOUT_S = 30.0
_ERROR_TYPE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class EmbeddingsClient:
    """One aiohttp session per `embed()` call: the index may live for the whole process
    without anyone closing it, and an embed call is rare next to its own latency."""

    def __init__(
        self,
        *,
        url: str,
        model: str,
        api_key: SecretStr | None = None,
        batch_size: int = BATCH_SIZE,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._endpoint = url.rstrip("/") + "/embeddings"
        self._model = model
        self._api_key = api_key
        self._batch_size = batch_size
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order; all of the same dimension."""
        if not texts:
            return []
        vectors: list[list[float]] = []
        async with aiohttp.ClientSession(timeout=self._timeout, headers=self._headers()) as session:
            for start in range(0, len(texts), self._batch_size):
                vectors += await self._batch(session, list(texts[start : start + self._batch_size]))
        if len({len(v) for v in vectors}) != 1:
            raise BackendError("embeddings endpoint returned vectors of different dimensions")
        return vectors

    def _headers(self) -> dict[str, str]:
        if self._api_key is None:
            return {}
        return {"Authorization": f"Bearer {self._api_key.get_secret_value()}"}

    async def _batch(self, session: aiohttp.ClientSession, texts: list[str]) -> list[list[float]]:
        try:
            async with session.post(self._endpoint, json={"model": self._model, "input": texts}) as resp:
                status, raw = resp.status, await resp.read()
        except TimeoutError:
            raise BackendError(
                f"embeddings endpoint did not answer within {self._timeout.total:g}s"
            ) from None
        except aiohttp.ClientError as exc:  # refused, reset, bad URL, …: the type only
            raise BackendError(f"embeddings endpoint unreachable ({type(exc).__name__})") from None
        body = _json(raw)
        if status in (401, 403):
            raise BackendError(
                f"embeddings endpoint refused the API key (HTTP {status}); check the "
                "embeddings_api_key secret file"
            )
        if not 200 <= status < 300:
            raise BackendError(f"embeddings endpoint answered HTTP {status}{_error_type(body)}")
        return _parse(body, len(texts))


def _json(raw: bytes) -> Any:
    """None when not JSON (a proxy's HTML error page): the status still says what happened."""
    try:
        return json.loads(raw)
    except ValueError:  # includes UnicodeDecodeError
        return None


def _error_type(body: Any) -> str:
    """The OpenAI error `type`/`code` only: a provider's `message` may quote part of the key."""
    err = body.get("error") if isinstance(body, dict) else None
    kind = (err.get("type") or err.get("code")) if isinstance(err, dict) else None
    return f" ({kind})" if isinstance(kind, str) and _ERROR_TYPE_RE.match(kind) else ""


def _parse(body: Any, expected: int) -> list[list[float]]:
    """`data[i].embedding`, put in input order by `data[i].index`."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or len(data) != expected:
        raise BackendError(f"embeddings response malformed: expected {expected} items in 'data'")
    by_index: dict[int, list[float]] = {}
    for item in data:
        index = item.get("index") if isinstance(item, dict) else None
        vector = item.get("embedding") if isinstance(item, dict) else None
        if not isinstance(index, int) or not 0 <= index < expected or index in by_index:
            raise BackendError("embeddings response malformed: bad or repeated 'index'")
        if not isinstance(vector, list) or not vector or not all(_is_number(x) for x in vector):
            raise BackendError("embeddings response malformed: 'embedding' is not a list of numbers")
        by_index[index] = [float(x) for x in vector]
    return [by_index[i] for i in range(expected)]


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
