"""A wire-faithful OpenAI embeddings API on 127.0.0.1, for tests.

Speaks `POST /v1/embeddings` as OpenAI does: `{"model", "input": str | [str]}` in,
`{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}`
out; a wrong or missing bearer key → 401 with an OpenAI-style error body.

    async with EmbeddingsSim() as sim:
        client = EmbeddingsClient(url=sim.base_url, model="m", api_key=SecretStr(sim.api_key))
        sim.fail_next(times=2)          # the next two requests answer 500

Embeddings are deterministic: a hashed bag of words in which the words of one `SYNONYMS`
group share a slot, so "follower behind leader" lands near "replica lag primary" — what a
real embedding model does and a keyword index cannot.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sim.loopback import LoopbackServer

JSON = dict[str, Any]

DEFAULT_DIM = 256
SYNONYMS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "replica replicas replication follower followers standby secondary",
        "primary leader master",
        "lag lagging behind delay delayed stale",
        "memory ram oom oomkilled",
        "restart restarts reboot crash crashing crashloop",
        "certificate certificates cert certs tls ssl",
        "rotate rotation rotating renew renewal",
        "registry registries",
        "database databases db postgres postgresql",
        "pool pgbouncer pooler",
        "exhausted full saturated",
        "error errors 5xx failure failures failing",
        "deploy deployment release rollout",
    )
)
_STOPWORDS = frozenset("a an and are as at be by for from in is it of on or the to with".split())
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_CANON = {word: min(group) for group in SYNONYMS for word in group}


def embed_text(text: str, dim: int = DEFAULT_DIM) -> list[float]:
    """Unit-length bag of (synonym-folded) words; an empty text is a fixed unit vector."""
    vec = [0.0] * dim
    for token in _TOKEN_RE.findall(text.lower()):
        if token in _STOPWORDS:
            continue
        digest = hashlib.blake2b(_CANON.get(token, token).encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "big") % dim
        vec[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vec))
    if norm == 0:
        vec[0], norm = 1.0, 1.0
    return [x / norm for x in vec]


@dataclass(frozen=True)
class SimRequest:
    authorized: bool
    body: Any
    """The parsed JSON body (None when it was not JSON)."""


class EmbeddingsSim(LoopbackServer):
    def __init__(
        self,
        *,
        api_key: str | None = "sk-sim-embeddings",
        dim: int = DEFAULT_DIM,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.api_key = api_key
        """None: no key required (like a local server without auth)."""
        self.dim = dim
        self.requests: list[SimRequest] = []
        """Every request that arrived, refused ones included."""
        self._failures: deque[int] = deque()
        self._delays: deque[float] = deque()

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        """The next `times` authorized requests answer `status` with an OpenAI error body."""
        self._failures.extend([status] * times)

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` requests answer only after `seconds` (a client timeout, tested)."""
        self._delays.extend([seconds] * times)

    def inputs(self) -> list[str]:
        """Every text embedded so far, in order."""
        return [
            t
            for r in self.requests
            if r.authorized and isinstance(r.body, dict)
            for t in _as_list(r.body.get("input"))
        ]

    # --- lifecycle -------------------------------------------------------------------------
    base_path = "/v1"  # base_url is what AIOPS_EMBEDDINGS_URL would be

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/embeddings", self._embeddings)
        return app

    # --- HTTP ------------------------------------------------------------------------------
    async def _embeddings(self, request: web.Request) -> web.Response:
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        authorized = self.api_key is None or request.headers.get("Authorization") == f"Bearer {self.api_key}"
        self.requests.append(SimRequest(authorized, body))
        if self._delays:
            await asyncio.sleep(self._delays.popleft())
        if not authorized:
            # OpenAI says "Incorrect API key provided: sk-ab***yz" — part of the key, hence the
            # client must never pass this message on.
            return _error(
                401,
                "Incorrect API key provided: " + _masked(request),
                "invalid_request_error",
                "invalid_api_key",
            )
        if self._failures:
            status = self._failures.popleft()
            return _error(status, "The server had an error while processing your request.", "server_error")
        texts = _as_list(body.get("input")) if isinstance(body, dict) else []
        if (
            not isinstance(body, dict)
            or not body.get("model")
            or not texts
            or not all(isinstance(t, str) and t for t in texts)
        ):
            return _error(
                400, "'input' must be a non-empty string or array of strings", "invalid_request_error"
            )
        return web.json_response(self._response(str(body["model"]), texts))

    def _response(self, model: str, texts: list[str]) -> JSON:
        tokens = sum(len(t.split()) for t in texts)
        data = [
            {"object": "embedding", "index": i, "embedding": embed_text(t, self.dim)}
            for i, t in enumerate(texts)
        ]
        return {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _masked(request: web.Request) -> str:
    key = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return f"{key[:3]}***{key[-2:]}" if len(key) > 6 else "***"


def _error(status: int, message: str, kind: str, code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status)
