"""Dense vectors from an OpenAI-compatible embeddings endpoint, fused (RRF) with the sparse BM25
search: real Qdrant local mode, the embeddings simulator over real HTTP."""

from __future__ import annotations

import argparse
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from aiops.cli import cmd_runbooks_ingest
from aiops.sources import build_tools_for
from app.audit.log import PostgresAuditLog
from app.config import Secrets, Settings, load_settings
from kernel.errors import BackendError
from sim.embeddings import EmbeddingsSim
from tests.tools._router_kit import scope, unwrap
from tests.tools.runbooks.conftest import DATA, viewer_ctx
from tools.base import ToolContext
from tools.router import ToolRouter
from tools.runbooks import index as index_module
from tools.runbooks.embeddings import EmbeddingsClient
from tools.runbooks.index import RunbookIndex
from tools.runbooks.ingest import ingest
from tools.runbooks.sparse import tokenize
from tools.runbooks.tool import RunbookSearchTool
from tools.sanitize import MARKER_INJECTION

MODEL = "text-embedding-3-small"
# No word of these queries occurs in any runbook; their synonyms do (sim.embeddings.SYNONYMS).
SYNONYM_QUERIES = [
    ("follower behind leader", "Payments database > Replication lag"),
    ("renew tls cert", "Image pull failures > Certificate rotation"),
    ("pod crashloop ram", "Checkout service > OOMKilled pods"),
]


@pytest.fixture
async def sim() -> AsyncIterator[EmbeddingsSim]:
    async with EmbeddingsSim() as s:
        yield s


def embedder(sim: EmbeddingsSim, key: str | None = None) -> EmbeddingsClient:
    return EmbeddingsClient(url=sim.base_url, model=MODEL, api_key=SecretStr(key or str(sim.api_key)))


@pytest.fixture
async def open_index(tmp_path: Path) -> AsyncIterator[Callable[..., RunbookIndex]]:
    """`open_index(name, embedder=None)`: a local-mode index under tmp_path/name, closed after."""
    opened: list[RunbookIndex] = []

    def make(name: str, embedder: EmbeddingsClient | None = None) -> RunbookIndex:
        opened.append(RunbookIndex.open(url=None, data_dir=tmp_path / name, embedder=embedder))
        return opened[-1]

    yield make
    for idx in opened:
        await idx.close()


def corpus_tokens() -> set[str]:
    return {t for f in DATA.rglob("*.md") for t in tokenize(f.read_text())}


def titles(hits: list[Any]) -> list[str]:
    return [h.title for h in hits]


# --- (a), (b): fusion --------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "title"), SYNONYM_QUERIES)
async def test_a_synonym_query_finds_the_section_that_keywords_cannot(
    open_index: Callable[..., RunbookIndex], sim: EmbeddingsSim, runbooks: Path, query: str, title: str
) -> None:
    assert not set(tokenize(query)) & corpus_tokens()  # the premise: not one shared token
    sparse, hybrid = open_index("sparse"), open_index("hybrid", embedder(sim))
    assert await ingest(runbooks, index=sparse) == 8
    assert await ingest(runbooks, index=hybrid) == 8
    assert await sparse.search(query) == []
    hits = await hybrid.search(query, limit=3)
    assert hits[0].title == title
    assert sim.inputs()[-1] == query and all(r.body["model"] == MODEL for r in sim.requests)


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("pod OOMKilled exit code 137 memory limit", "Checkout service > OOMKilled pods"),
        ("postgres replica lag stale", "Payments database > Replication lag"),
        ("how to promote the replica failover", "Payments database > Replication lag > Failover"),
        ("ImagePullBackOff cannot pull image", "Image pull failures > ImagePullBackOff"),
        ("connection slots reserved pgbouncer", "Payments database > Connection pool exhausted"),
        ("5xx errors after deploy", "Checkout service > High 5xx rate"),
    ],
)
async def test_exact_keywords_still_rank_their_section_first(
    open_index: Callable[..., RunbookIndex], sim: EmbeddingsSim, runbooks: Path, query: str, title: str
) -> None:
    hybrid = open_index("hybrid", embedder(sim))
    await ingest(runbooks, index=hybrid)
    hits = await hybrid.search(query, limit=3)
    assert hits[0].title == title
    assert query in sim.inputs()  # fused, not sparse alone


async def test_ingest_embeds_title_and_text_in_batches(
    open_index: Callable[..., RunbookIndex], sim: EmbeddingsSim, tmp_path: Path
) -> None:
    big = tmp_path / "big.md"
    big.write_text("\n\n".join(f"## Step {i}\n\nrestart worker {i}" for i in range(70)))
    assert await ingest(big, index=open_index("hybrid", embedder(sim))) == 70
    assert [len(r.body["input"]) for r in sim.requests] == [64, 6]
    assert sim.inputs()[0] == "Step 0\n\nrestart worker 0"


# --- (c), (d), (e): failures -------------------------------------------------------------------
async def test_embeddings_down_at_search_time_keeps_the_sparse_answer(
    open_index: Callable[..., RunbookIndex],
    sim: EmbeddingsSim,
    runbooks: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sparse, hybrid = open_index("sparse"), open_index("hybrid", embedder(sim))
    await ingest(runbooks, index=sparse)
    await ingest(runbooks, index=hybrid)
    expected = titles(await sparse.search("pgbouncer connection slots", limit=3))
    sim.fail_next(times=1)
    caplog.set_level(logging.WARNING, logger="tools.runbooks.index")
    hits = await hybrid.search("pgbouncer connection slots", limit=3)
    assert titles(hits) == expected and expected[0] == "Payments database > Connection pool exhausted"
    assert "embeddings unavailable (embeddings endpoint answered HTTP 500" in caplog.text
    assert str(sim.api_key) not in caplog.text
    # the endpoint is back: fusion again, on the very next question
    assert (await hybrid.search("follower behind leader"))[0].title == "Payments database > Replication lag"


async def test_a_slow_embeddings_endpoint_at_search_time_keeps_the_sparse_answer(
    open_index: Callable[..., RunbookIndex],
    sim: EmbeddingsSim,
    runbooks: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hybrid = open_index("hybrid", embedder(sim))
    await ingest(runbooks, index=hybrid)
    monkeypatch.setattr(index_module, "SEARCH_EMBED_TIMEOUT_S", 0.2)
    sim.slow_next(2.0)
    hits = await hybrid.search("ImagePullBackOff", limit=3)
    assert titles(hits)[0] == "Image pull failures > ImagePullBackOff"
    assert "embeddings unavailable (timed out)" in caplog.text


async def test_embeddings_down_at_ingest_is_a_clear_error_and_keeps_the_old_chunks(
    open_index: Callable[..., RunbookIndex], sim: EmbeddingsSim, runbooks: Path
) -> None:
    hybrid = open_index("hybrid", embedder(sim))
    assert await ingest(runbooks, index=hybrid) == 8
    sim.fail_next(times=1)
    with pytest.raises(BackendError, match=r"embeddings endpoint answered HTTP 500 \(server_error\)") as info:
        await ingest(runbooks, index=hybrid)
    assert str(sim.api_key) not in str(info.value) and sim.base_url not in str(info.value)
    assert await hybrid.count() == 8  # nothing was deleted before the embeddings existed
    assert (await hybrid.search("renew tls cert"))[0].title == "Image pull failures > Certificate rotation"


async def test_a_wrong_key_is_a_clear_error_without_the_key(
    open_index: Callable[..., RunbookIndex], sim: EmbeddingsSim, runbooks: Path
) -> None:
    wrong = "sk-wrong-" + uuid.uuid4().hex
    hybrid = open_index("hybrid", embedder(sim, key=wrong))
    with pytest.raises(BackendError) as info:
        await ingest(runbooks, index=hybrid)
    message = str(info.value)
    assert "refused the API key (HTTP 401)" in message and "embeddings_api_key" in message
    assert wrong not in message and "Incorrect API key" not in message  # nor OpenAI's masked hint
    assert sim.requests and not any(r.authorized for r in sim.requests)
    assert await hybrid.count() == 0


async def test_cli_ingest_reports_an_embeddings_failure_in_one_line(
    sim: EmbeddingsSim, runbooks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "sk-wrong-" + uuid.uuid4().hex
    rc = await cmd_runbooks_ingest(
        argparse.Namespace(path=str(runbooks)), settings(tmp_path, sim.base_url), secrets(wrong)
    )
    out = capsys.readouterr()
    assert rc == 1 and out.out == ""
    assert out.err.strip().splitlines() == [
        "aiops: runbooks ingest failed: embeddings endpoint refused the API key (HTTP 401); "
        "check the embeddings_api_key secret file"
    ]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"data": []}, "expected 2 items"),
        ({"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}, "repeated 'index'"),
        (
            {"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": "x"}]},
            "not a list of numbers",
        ),
        ({"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": [1.0, 2.0]}]}, "dimensions"),
        ("<html>bad gateway</html>", "malformed"),
    ],
)
async def test_malformed_responses_are_clear_errors(body: Any, error: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        if isinstance(body, str):
            return web.Response(text=body, content_type="text/html")
        return web.json_response(body)

    async with _server(handler) as url:
        with pytest.raises(BackendError, match=error):
            await EmbeddingsClient(url=url, model=MODEL).embed(["a", "b"])


async def test_vectors_are_put_in_input_order_by_index() -> None:
    async def handler(request: web.Request) -> web.Response:
        data = [{"object": "embedding", "index": i, "embedding": [float(i)]} for i in (2, 0, 1)]
        return web.json_response({"object": "list", "data": data, "model": MODEL})

    async with _server(handler) as url:
        assert await EmbeddingsClient(url=url, model=MODEL).embed(["a", "b", "c"]) == [[0.0], [1.0], [2.0]]


# --- a collection built before embeddings were configured --------------------------------------
async def test_a_sparse_only_collection_searches_sparse_then_ingest_upgrades_it_whole(
    open_index: Callable[..., RunbookIndex],
    sim: EmbeddingsSim,
    runbooks: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = open_index("shared")
    assert await ingest(runbooks, index=old) == 8
    await old.close()
    hybrid = open_index("shared", embedder(sim))
    caplog.set_level(logging.WARNING, logger="tools.runbooks.index")
    hits = await hybrid.search("pgbouncer connection slots")
    assert hits[0].title == "Payments database > Connection pool exhausted"
    assert await hybrid.search("follower behind leader") == []  # still sparse only …
    assert caplog.text.count("was built without dense vectors") == 1  # … said once, not per question
    assert sim.requests == []
    # one file re-ingested: the collection is rebuilt with every stored chunk embedded
    assert await ingest(runbooks / "checkout.md", index=hybrid) == 3
    assert await hybrid.count() == 8
    assert "rebuilding runbook collection 'runbooks'" in caplog.text
    assert (await hybrid.search("follower behind leader"))[0].title == "Payments database > Replication lag"


async def test_a_model_of_another_dimension_searches_sparse_until_ingest_rebuilds(
    open_index: Callable[..., RunbookIndex],
    sim: EmbeddingsSim,
    runbooks: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = open_index("shared", embedder(sim))
    assert await ingest(runbooks, index=first) == 8
    await first.close()
    async with EmbeddingsSim(dim=128) as other:  # the model changed
        second = open_index("shared", embedder(other))
        caplog.set_level(logging.WARNING, logger="tools.runbooks.index")
        assert (await second.search("pgbouncer"))[0].title == "Payments database > Connection pool exhausted"
        assert "holds 256-dim vectors, the model gives 128" in caplog.text
        assert await ingest(runbooks / "payments" / "image-pull.md", index=second) == 2
        assert await second.count() == 8
        hits = await second.search("follower behind leader")
        assert hits[0].title == "Payments database > Replication lag"


# --- (f) and wiring: settings → bootstrap / CLI ------------------------------------------------
def settings(tmp_path: Path, embeddings_url: str | None) -> Settings:
    env = {"KEYCLOAK_URL": "http://127.0.0.1:1", "AIOPS_DATA_DIR": str(tmp_path / "aiops-data")}
    return load_settings(env | ({"AIOPS_EMBEDDINGS_URL": embeddings_url} if embeddings_url else {}))


def secrets(embeddings_key: str) -> Secrets:
    return Secrets(
        slack_bot_token=SecretStr("x"),
        slack_signing_secret=SecretStr("x"),
        alertmanager_token=SecretStr("x"),
        embeddings_api_key=SecretStr(embeddings_key),
    )


async def _ingest_then_search(settings: Settings, secrets: Secrets, runbooks: Path, query: str) -> Any:
    """`aiops runbooks ingest`, then the runbook_search tool as `build_runtime` builds it."""
    assert await cmd_runbooks_ingest(argparse.Namespace(path=str(runbooks)), settings, secrets) == 0
    [tool] = [t for t in build_tools_for(settings, secrets) if isinstance(t, RunbookSearchTool)]
    try:
        return await tool._invoke({"query": query}, ToolContext(scope=scope(), job_id="j"))
    finally:
        await tool._index.close()


async def test_without_an_embeddings_url_nothing_calls_the_endpoint(
    sim: EmbeddingsSim, runbooks: Path, tmp_path: Path
) -> None:
    out = await _ingest_then_search(
        settings(tmp_path, None), secrets(str(sim.api_key)), runbooks, "pgbouncer"
    )
    assert out["results"][0]["title"] == "Payments database > Connection pool exhausted"
    assert sim.requests == []


async def test_with_an_embeddings_url_ingest_and_search_use_it(
    sim: EmbeddingsSim, runbooks: Path, tmp_path: Path
) -> None:
    s = settings(tmp_path, sim.base_url + "/")
    assert s.embeddings_url == sim.base_url and s.embeddings_model == MODEL
    out = await _ingest_then_search(s, secrets(str(sim.api_key)), runbooks, "follower behind leader")
    assert out["results"][0]["title"] == "Payments database > Replication lag"
    assert sim.requests and all(r.authorized for r in sim.requests)


# --- runbook text stays untrusted ----------------------------------------------------------------
async def test_a_densely_found_injection_is_still_withheld_by_the_router(
    open_index: Callable[..., RunbookIndex],
    sim: EmbeddingsSim,
    runbooks: Path,
    audit_log: PostgresAuditLog,
    search_router: Callable[[RunbookIndex], ToolRouter],
) -> None:
    """Only the way it was found is new; test_runbooks covers the audit row."""
    hybrid = open_index("hybrid", embedder(sim))
    await ingest(runbooks, index=hybrid)
    router = search_router(hybrid)
    ctx = viewer_ctx()
    out = await router.invoke("runbook_search", {"query": "renew tls cert", "limit": 1}, ctx)
    assert not out.is_error
    first = unwrap(out.content)[2]["results"][0]
    assert first["title"] == "Image pull failures > Certificate rotation"
    assert MARKER_INJECTION in first["snippet"].split("\n")
    assert "IGNORE" not in out.content and "evil.example" not in out.content


class _server:
    """A one-route aiohttp server for responses the simulator never sends."""

    def __init__(self, handler: Callable[[web.Request], Any]) -> None:
        self._app = web.Application()
        self._app.router.add_post("/v1/embeddings", handler)
        self._runner = web.AppRunner(self._app)

    async def __aenter__(self) -> str:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()
