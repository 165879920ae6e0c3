"""The runbook index in Qdrant: local mode (`QdrantClient(path=…)`) by default, a server
when `QDRANT_URL` is set. One collection, one named sparse vector `bm25` with Qdrant's IDF
modifier.

qdrant-client's local mode is blocking and not safe for concurrent use, so every call goes
through `asyncio.to_thread` behind one lock. Local mode also locks its folder: a second
process (a second worker, or `aiops runbooks ingest` next to a running server) needs a
Qdrant server (`QDRANT_URL`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from qdrant_client import QdrantClient, models

from app.errors import BackendError
from tools.runbooks.sparse import document_vector, query_vector

if TYPE_CHECKING:
    from tools.runbooks.ingest import Chunk

DEFAULT_COLLECTION = "runbooks"
SPARSE = "bm25"
_ID_NAMESPACE = uuid.UUID("3f8b8f57-6c1e-4f7e-9a51-7d0f3c1b2a90")
T = TypeVar("T")


@dataclass(frozen=True)
class Hit:
    title: str
    source: str
    text: str
    score: float


def point_id(doc_id: str, ordinal: int) -> str:
    """Stable: re-ingesting a file overwrites the same points."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{doc_id}#{ordinal}"))


class RunbookIndex:
    """`connect` builds the client on first use (in a worker thread): a locked local folder or
    an unreachable server then becomes a tool error for that call, not a start-up crash."""

    def __init__(self, *, connect: Callable[[], QdrantClient], collection: str = DEFAULT_COLLECTION) -> None:
        self._connect = connect
        self._client: QdrantClient | None = None
        self._collection = collection
        self._lock = asyncio.Lock()
        self._ready = False

    @classmethod
    def open(
        cls,
        *,
        url: str | None,
        data_dir: Path,
        api_key: str | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> RunbookIndex:
        """`url` (QDRANT_URL) → server; otherwise local mode under `data_dir/qdrant`."""
        if url:
            return cls(connect=lambda: QdrantClient(url=url, api_key=api_key), collection=collection)
        path = data_dir / "qdrant"

        def local() -> QdrantClient:
            path.mkdir(parents=True, exist_ok=True)
            return QdrantClient(path=str(path))

        return cls(connect=local, collection=collection)

    async def _call(self, fn: Callable[[QdrantClient], T]) -> T:
        def run() -> T:
            if self._client is None:
                self._client = self._connect()
            return fn(self._client)

        async with self._lock:
            try:
                return await asyncio.to_thread(run)
            except Exception as exc:  # connection refused, locked folder, …: no details (URLs, keys)
                raise BackendError(f"runbook index unavailable ({type(exc).__name__})") from exc

    async def ensure(self) -> None:
        if self._ready:
            return

        def create(client: QdrantClient) -> None:
            if not client.collection_exists(self._collection):
                client.create_collection(
                    self._collection,
                    vectors_config={},
                    sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                )

        await self._call(create)
        self._ready = True

    def _doc_filter(self, doc_id: str) -> models.FilterSelector:
        return models.FilterSelector(
            filter=models.Filter(
                must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))]
            )
        )

    async def replace_document(self, doc_id: str, chunks: list[Chunk]) -> int:
        """Delete the document's old chunks, then write the new ones (stable ids)."""
        await self.ensure()
        points = [
            models.PointStruct(
                id=point_id(doc_id, c.ordinal),
                vector={SPARSE: _sparse(*document_vector(c.text, title=c.title))},
                payload={"doc_id": doc_id, "ordinal": c.ordinal, "title": c.title, "source": c.source,
                         "text": c.text},
            )
            for c in chunks
        ]

        def write(client: QdrantClient) -> None:
            client.delete(self._collection, points_selector=self._doc_filter(doc_id), wait=True)
            if points:
                client.upsert(self._collection, points=points, wait=True)

        await self._call(write)
        return len(points)

    async def count(self) -> int:
        await self.ensure()
        return (await self._call(lambda c: c.count(self._collection, exact=True))).count

    async def search(self, query: str, *, limit: int = 5) -> list[Hit]:
        await self.ensure()
        indices, values = query_vector(query)
        if not indices:
            return []

        def run(client: QdrantClient) -> list[Any]:
            return client.query_points(
                self._collection,
                query=_sparse(indices, values),
                using=SPARSE,
                limit=limit,
                with_payload=True,
            ).points

        return [
            Hit(
                title=str(p.payload.get("title", "")),
                source=str(p.payload.get("source", "")),
                text=str(p.payload.get("text", "")),
                score=float(p.score),
            )
            for p in await self._call(run)
            if p.payload
        ]

    async def close(self) -> None:
        if self._client is not None:
            await self._call(lambda c: c.close())
            self._client = None
        self._ready = False


def _sparse(indices: list[int], values: list[float]) -> models.SparseVector:
    return models.SparseVector(indices=indices, values=values)
