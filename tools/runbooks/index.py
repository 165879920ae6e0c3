"""The runbook index in Qdrant: local mode (`QdrantClient(path=…)`) by default, a server
when `QDRANT_URL` is set. One collection, one named sparse vector `bm25` with Qdrant's IDF
modifier.

With an embedder (`AIOPS_EMBEDDINGS_URL`) the collection also has a named dense vector `dense`
(cosine; its size is learned from the first embeddings written), and a search fuses the sparse
and the dense candidates with reciprocal rank fusion: exact keywords still count, and a query
in other words (synonyms) can still find its section.

- Embeddings failing at search time: sparse results only, and a warning — the answer is kept.
- Embeddings failing at ingest: a `BackendError`; the document's old chunks stay as they were.
- A collection without the dense vector (built before embeddings were configured) or with
  another size (the model changed): searches stay sparse-only with a warning, and the next
  `aiops runbooks ingest` rebuilds the collection, re-embedding the chunks already stored, so
  ingesting one file does not drop the others.

qdrant-client's local mode is blocking and not safe for concurrent use, so every call goes
through `asyncio.to_thread` behind one lock. Local mode also locks its folder: a second
process (a second worker, or `aiops runbooks ingest` next to a running server) needs a
Qdrant server (`QDRANT_URL`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from qdrant_client import QdrantClient, models

from kernel.errors import BackendError
from tools.runbooks.chunk import Chunk
from tools.runbooks.sparse import document_vector, query_vector

if TYPE_CHECKING:
    from tools.runbooks.embeddings import Embedder

log = logging.getLogger(__name__)

DEFAULT_COLLECTION = "runbooks"
SPARSE = "bm25"
DENSE = "dense"
SEARCH_EMBED_TIMEOUT_S = 4.0
"""Below the tool's 10 s budget, so a slow endpoint still leaves time for the sparse answer."""
PREFETCH_MIN = 20
"""Candidates per vector before fusion: fusion can only reorder what the prefetches return."""
_ID_NAMESPACE = uuid.UUID("3f8b8f57-6c1e-4f7e-9a51-7d0f3c1b2a90")
T = TypeVar("T")


@dataclass(frozen=True)
class Layout:
    """What the existing collection holds."""

    dense_size: int | None
    """None: sparse only."""


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

    def __init__(
        self,
        *,
        connect: Callable[[], QdrantClient],
        collection: str = DEFAULT_COLLECTION,
        embedder: Embedder | None = None,
    ) -> None:
        self._connect = connect
        self._client: QdrantClient | None = None
        self._collection = collection
        self._embedder = embedder
        self._lock = asyncio.Lock()
        self._layout: Layout | None = None
        """Known once the collection exists; None before."""
        self._warned_layout = False

    @classmethod
    def open(
        cls,
        *,
        url: str | None,
        data_dir: Path,
        api_key: str | None = None,
        collection: str = DEFAULT_COLLECTION,
        embedder: Embedder | None = None,
    ) -> RunbookIndex:
        """`url` (QDRANT_URL) → server; otherwise local mode under `data_dir/qdrant`."""
        if url:
            return cls(
                connect=lambda: QdrantClient(url=url, api_key=api_key),
                collection=collection,
                embedder=embedder,
            )
        path = data_dir / "qdrant"

        def local() -> QdrantClient:
            path.mkdir(parents=True, exist_ok=True)
            return QdrantClient(path=str(path))

        return cls(connect=local, collection=collection, embedder=embedder)

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

    async def ensure(self, dense_size: int | None = None) -> None:
        """Make the collection ready to write `dense_size`-long dense vectors (None: sparse only).

        With an embedder and no size yet, a missing collection is left missing: it is created
        by the first write, which knows the size. A collection of another layout is rebuilt.
        """
        if self._layout is not None and dense_size in (None, self._layout.dense_size):
            return
        layout = await self._call(self._read_layout)
        if layout is None and (self._embedder is None or dense_size is not None):
            await self._call(lambda c: self._create(c, dense_size))
            layout = Layout(dense_size)
        elif layout is not None and dense_size not in (None, layout.dense_size):
            await self._rebuild(dense_size)
            layout = Layout(dense_size)
        self._layout = layout

    def _read_layout(self, client: QdrantClient) -> Layout | None:
        if not client.collection_exists(self._collection):
            return None
        vectors = client.get_collection(self._collection).config.params.vectors
        dense = vectors.get(DENSE) if isinstance(vectors, dict) else None
        return Layout(dense.size if dense is not None else None)

    def _create(self, client: QdrantClient, dense_size: int | None) -> None:
        dense = (
            {DENSE: models.VectorParams(size=dense_size, distance=models.Distance.COSINE)}
            if dense_size
            else {}
        )
        client.create_collection(
            self._collection,
            vectors_config=dense,
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )

    async def _rebuild(self, dense_size: int) -> None:
        """Recreate the collection with the dense vector, re-embedding the stored chunks first
        (an embeddings failure then leaves the old collection untouched)."""
        stored = await self._call(self._all_payloads)
        log.warning(
            "rebuilding runbook collection %r with %d-dim dense vectors (%d chunks)",
            self._collection,
            dense_size,
            len(stored),
        )
        points = await self._points(stored)

        def recreate(client: QdrantClient) -> None:
            client.delete_collection(self._collection)
            self._create(client, dense_size)
            if points:
                client.upsert(self._collection, points=points, wait=True)

        await self._call(recreate)

    def _all_payloads(self, client: QdrantClient) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset: Any = None
        while True:
            batch, offset = client.scroll(self._collection, limit=256, offset=offset, with_payload=True)
            out += [dict(p.payload) for p in batch if p.payload and "doc_id" in p.payload]
            if offset is None:
                return out

    def _doc_filter(self, doc_id: str) -> models.FilterSelector:
        return models.FilterSelector(
            filter=models.Filter(
                must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))]
            )
        )

    async def replace_document(self, doc_id: str, chunks: list[Chunk]) -> int:
        """Delete the document's old chunks, then write the new ones (stable ids)."""
        payloads = [
            {"doc_id": doc_id, "ordinal": c.ordinal, "title": c.title, "source": c.source, "text": c.text}
            for c in chunks
        ]
        points = await self._points(payloads)
        await self.ensure(_dense_size(points))
        if self._layout is None:
            return 0  # no collection yet and nothing to write

        def write(client: QdrantClient) -> None:
            client.delete(self._collection, points_selector=self._doc_filter(doc_id), wait=True)
            if points:
                client.upsert(self._collection, points=points, wait=True)

        await self._call(write)
        return len(points)

    async def _points(self, payloads: list[dict[str, Any]]) -> list[models.PointStruct]:
        """Sparse vectors always; dense ones too with an embedder (its errors propagate)."""
        texts = [(str(p.get("title", "")), str(p.get("text", ""))) for p in payloads]
        dense: list[list[float]] | None = None
        if self._embedder is not None and payloads:
            dense = await self._embedder.embed([_passage(title, text) for title, text in texts])
        points = []
        for i, payload in enumerate(payloads):
            title, text = texts[i]
            vector: dict[str, Any] = {SPARSE: _sparse(*document_vector(text, title=title))}
            if dense is not None:
                vector[DENSE] = dense[i]
            pid = point_id(payload["doc_id"], payload["ordinal"])
            points.append(models.PointStruct(id=pid, vector=vector, payload=payload))
        return points

    async def count(self) -> int:
        await self.ensure()
        if self._layout is None:
            return 0
        return (await self._call(lambda c: c.count(self._collection, exact=True))).count

    async def search(self, query: str, *, limit: int = 5) -> list[Hit]:
        await self.ensure()
        indices, values = query_vector(query)
        if not indices or self._layout is None:
            return []
        sparse = _sparse(indices, values)
        dense = await self._query_dense(query, self._layout)
        points = await self._call(lambda c: self._query(c, sparse, dense, limit))
        return [_hit(p.payload, p.score) for p in points if p.payload]

    def _query(
        self, client: QdrantClient, sparse: models.SparseVector, dense: list[float] | None, limit: int
    ) -> list[models.ScoredPoint]:
        """Sparse alone, or both prefetches fused by rank (RRF: no score scales to reconcile)."""
        if dense is None:
            return client.query_points(
                self._collection, query=sparse, using=SPARSE, limit=limit, with_payload=True
            ).points
        depth = max(PREFETCH_MIN, 4 * limit)
        return client.query_points(
            self._collection,
            prefetch=[
                models.Prefetch(query=sparse, using=SPARSE, limit=depth),
                models.Prefetch(query=dense, using=DENSE, limit=depth),
            ],
            query=models.FusionQuery(fusion=models.Fusion.RRF),
            limit=limit,
            with_payload=True,
        ).points

    async def _query_dense(self, query: str, layout: Layout) -> list[float] | None:
        """The query's dense vector, or None → sparse only (never an error: the answer is kept)."""
        if self._embedder is None:
            return None
        if layout.dense_size is None:
            self._warn_layout("was built without dense vectors")
            return None
        try:
            async with asyncio.timeout(SEARCH_EMBED_TIMEOUT_S):
                [vector] = await self._embedder.embed([query])
        except (BackendError, TimeoutError) as exc:
            log.warning(
                "runbook search: embeddings unavailable (%s); sparse results only",
                exc if isinstance(exc, BackendError) else "timed out",
            )
            return None
        if len(vector) != layout.dense_size:
            self._warn_layout(f"holds {layout.dense_size}-dim vectors, the model gives {len(vector)}")
            return None
        return vector

    def _warn_layout(self, problem: str) -> None:
        if not self._warned_layout:  # once per process, not once per question
            self._warned_layout = True
            log.warning(
                "runbook collection %r %s; searching sparse only until `aiops runbooks ingest` rebuilds it",
                self._collection,
                problem,
            )

    async def close(self) -> None:
        if self._client is not None:
            await self._call(lambda c: c.close())
            self._client = None
        self._layout = None


def _sparse(indices: list[int], values: list[float]) -> models.SparseVector:
    return models.SparseVector(indices=indices, values=values)


def _hit(payload: dict[str, Any], score: float) -> Hit:
    return Hit(
        title=str(payload.get("title", "")),
        source=str(payload.get("source", "")),
        text=str(payload.get("text", "")),
        score=float(score),
    )


def _passage(title: str, text: str) -> str:
    """What a chunk's dense vector is made of: the heading path carries much of its meaning."""
    return f"{title}\n\n{text}" if title else text


def _dense_size(points: list[models.PointStruct]) -> int | None:
    vector = points[0].vector if points else None
    dense = vector.get(DENSE) if isinstance(vector, dict) else None
    return len(dense) if isinstance(dense, list) else None
