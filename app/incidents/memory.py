"""Incident memory: resolved alert threads in Qdrant, found again for a new alert.

One point per thread (id = uuid5 of channel:thread_ts, so a re-resolve overwrites), a BM25-style
sparse vector (`tools.runbooks.sparse`, no model download) over the alert name, its labels, the
findings and the fix, and a payload with the namespaces, alert name, labels, link and dates.

Scope is enforced at query time, twice: a Qdrant filter (no namespace outside the asker's, none
without namespaces unless the asker sees everything, nothing older than the retention) and the same
rule again in Python on what comes back. Text is stored redacted: secrets, and quoted log lines
(code blocks, quotes, lines that look like log output) — a log line can carry anything.

Local mode (`QdrantClient(path=…)`, under `AIOPS_DATA_DIR/qdrant-incidents`) locks its folder for
one process; with several worker processes use the Qdrant server (`QDRANT_URL`). Every call is
behind one lock in a worker thread, as for the runbook index; failures are `BackendError`s that the
callers log and step over (triage and resolve never fail because memory is unavailable).
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from qdrant_client import QdrantClient, models

from kernel.errors import BackendError
from kernel.scope import EffectiveScope
from tools import sanitize
from tools.runbooks.sparse import document_vector, query_vector

COLLECTION = "incidents"
SPARSE = "bm25"
RETENTION = timedelta(days=90)
_ID_NS = uuid.UUID("0c5e4a3e-2f0b-4b8a-9d7e-6a1f9e2b7c41")
T = TypeVar("T")

LOG_LINES = "[log lines redacted]"
_FENCED = re.compile(r"```.*?(```|\Z)", re.S)
_QUOTE_LINE = re.compile(r"^\s*>.*$", re.M)
_LOGLIKE = re.compile(
    r"^.*(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\b(ERROR|WARN(ING)?|INFO|DEBUG|FATAL|PANIC|TRACE)\b|"
    r"\blevel=\w+|\bmsg=|Traceback \(most recent call last\)|^\s+at [\w.$]+\().*$",
    re.M,
)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LONG_QUOTED = re.compile(r"\"[^\"\n]{24,}\"")


def redact(text: str) -> str:
    """Secrets and quoted log lines out of a text before it is stored."""
    text = _FENCED.sub(LOG_LINES, text)
    text = _QUOTE_LINE.sub(LOG_LINES, text)
    text = _LOGLIKE.sub(LOG_LINES, text)
    text = _INLINE_CODE.sub(lambda m: LOG_LINES if _looks_logged(m.group(0)) else m.group(0), text)
    text = _LONG_QUOTED.sub(LOG_LINES, text)
    return sanitize.redact_secrets(text)


def _looks_logged(code: str) -> bool:
    """An inline code span that quotes output rather than naming a thing (a pod, a PromQL query)."""
    return bool(_LOGLIKE.search(code)) or (" " in code.strip("`") and ":" in code and "{" not in code)


def point_id(channel_id: str, thread_ts: str) -> str:
    return str(uuid.uuid5(_ID_NS, f"{channel_id}:{thread_ts}"))


@dataclass(frozen=True)
class IncidentRecord:
    channel_id: str
    thread_ts: str
    alertname: str
    namespaces: tuple[str, ...]
    labels: dict[str, str]
    link: str | None
    resolved_at: datetime
    findings: tuple[str, ...]
    fix: str | None
    summary: str = ""

    def text(self) -> str:
        labels = " ".join(f"{k} {v}" for k, v in sorted(self.labels.items()))
        return "\n".join([self.summary, labels, *self.findings, self.fix or ""])

    def payload(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "thread_ts": self.thread_ts,
            "alertname": self.alertname,
            "namespaces": sorted(self.namespaces),
            "cluster_wide": not self.namespaces,
            "labels": dict(self.labels),
            "link": self.link,
            "resolved_at": self.resolved_at.timestamp(),
            "findings": list(self.findings),
            "fix": self.fix,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class PastIncident:
    alertname: str
    namespaces: tuple[str, ...]
    link: str | None
    resolved_at: datetime
    findings: tuple[str, ...]
    fix: str | None
    summary: str
    score: float


def may_see(namespaces: list[str] | tuple[str, ...], scope: EffectiveScope) -> bool:
    """An incident without namespaces is cluster-level: only for askers who see everything."""
    if not namespaces:
        return scope.namespaces is None and scope.cluster_wide
    return all(scope.allows(ns) for ns in namespaces)


def scope_filter(scope: EffectiveScope, *, now: float) -> models.Filter:
    """The first layer: Qdrant returns only incidents this scope may see, within the retention."""
    must: list[Any] = [
        models.FieldCondition(key="resolved_at", range=models.Range(gte=now - RETENTION.total_seconds()))
    ]
    must_not: list[Any] = []
    if scope.namespaces is not None:
        allowed = sorted(scope.namespaces)
        must_not += [
            models.FieldCondition(key="namespaces", match=models.MatchExcept(**{"except": allowed})),
            models.IsEmptyCondition(is_empty=models.PayloadField(key="namespaces")),
        ]
    if not scope.cluster_wide:
        must_not.append(models.FieldCondition(key="cluster_wide", match=models.MatchValue(value=True)))
    return models.Filter(must=must, must_not=must_not)


class IncidentMemory:
    def __init__(self, *, connect: Callable[[], QdrantClient], collection: str = COLLECTION) -> None:
        self._connect = connect
        self._client: QdrantClient | None = None
        self._collection = collection
        self._lock = asyncio.Lock()
        self._ready = False

    @classmethod
    def open(cls, *, url: str | None, data_dir: Path, api_key: str | None = None) -> IncidentMemory:
        """`url` (QDRANT_URL) → the server; else local mode in its own folder (not the runbooks')."""
        if url:
            return cls(connect=lambda: QdrantClient(url=url, api_key=api_key))
        path = data_dir / "qdrant-incidents"

        def local() -> QdrantClient:
            path.mkdir(parents=True, exist_ok=True)
            return QdrantClient(path=str(path))

        return cls(connect=local)

    async def _call(self, fn: Callable[[QdrantClient], T]) -> T:
        def run() -> T:
            if self._client is None:
                self._client = self._connect()
            if not self._ready:
                if not self._client.collection_exists(self._collection):
                    self._client.create_collection(
                        self._collection,
                        vectors_config={},
                        sparse_vectors_config={
                            SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                        },
                    )
                self._ready = True
            return fn(self._client)

        async with self._lock:
            try:
                return await asyncio.to_thread(run)
            except Exception as exc:  # connection refused, locked folder, …: no details (URLs, keys)
                raise BackendError(f"incident memory unavailable ({type(exc).__name__})") from exc

    async def store(self, record: IncidentRecord) -> None:
        indices, values = document_vector(record.text(), title=record.alertname)
        point = models.PointStruct(
            id=point_id(record.channel_id, record.thread_ts),
            vector={SPARSE: models.SparseVector(indices=indices, values=values)},
            payload=record.payload(),
        )
        await self._call(lambda c: c.upsert(self._collection, points=[point], wait=True))
        await self.purge()  # local mode has no other purger (its folder is this process's)

    async def similar(
        self, query: str, scope: EffectiveScope, *, limit: int = 3, now: float | None = None
    ) -> list[PastIncident]:
        """The closest resolved incidents this scope may see, best first."""
        indices, values = query_vector(query)
        if not indices or scope.namespaces == frozenset():
            return []
        t = time.time() if now is None else now
        points = await self._call(
            lambda c: c.query_points(
                self._collection,
                query=models.SparseVector(indices=indices, values=values),
                using=SPARSE,
                query_filter=scope_filter(scope, now=t),
                limit=limit,
                with_payload=True,
            ).points
        )
        cutoff = t - RETENTION.total_seconds()
        out = []
        for p in points:
            pl = p.payload or {}
            ns = [str(n) for n in pl.get("namespaces") or []]
            if not may_see(ns, scope) or float(pl.get("resolved_at", 0)) < cutoff:
                continue  # the second layer: never trust the filter alone
            out.append(_past(pl, ns, float(p.score)))
        return out

    async def purge(self, *, older_than: timedelta = RETENTION, now: float | None = None) -> int:
        """Delete incidents resolved before the retention period; how many were deleted."""
        cutoff = (time.time() if now is None else now) - older_than.total_seconds()
        old = models.Filter(must=[models.FieldCondition(key="resolved_at", range=models.Range(lt=cutoff))])

        def delete(c: QdrantClient) -> int:
            n = c.count(self._collection, count_filter=old, exact=True).count
            c.delete(self._collection, points_selector=models.FilterSelector(filter=old), wait=True)
            return n

        return await self._call(delete)

    async def close(self) -> None:
        if self._client is not None:
            await self._call(lambda c: c.close())
            self._client = None
            self._ready = False


def _past(pl: dict[str, Any], ns: list[str], score: float) -> PastIncident:
    return PastIncident(
        alertname=str(pl.get("alertname", "")),
        namespaces=tuple(ns),
        link=pl.get("link") if isinstance(pl.get("link"), str) else None,
        resolved_at=datetime.fromtimestamp(float(pl.get("resolved_at", 0)), tz=UTC),
        findings=tuple(str(f) for f in pl.get("findings") or []),
        fix=str(pl["fix"]) if pl.get("fix") else None,
        summary=str(pl.get("summary", "")),
        score=score,
    )

