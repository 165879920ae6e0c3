"""`runbook_search {query, limit?}` — BM25 search (fused with dense vectors when embeddings are
configured, see `index.py`) over the ingested runbooks.

Runbooks are not namespaced (`namespace_arg = None`) and their text is untrusted like any
other tool data: `snippet` is a long-text field, so the router sanitizes it line by line.
"""

from __future__ import annotations

from typing import ClassVar

from tools.base import JSON, Tool, ToolContext
from tools.runbooks.index import RunbookIndex

DEFAULT_LIMIT = 3
MAX_LIMIT = 10
MAX_SNIPPET_CHARS = 1_500


def _snippet(text: str) -> str:
    return text if len(text) <= MAX_SNIPPET_CHARS else text[:MAX_SNIPPET_CHARS] + "…"


class RunbookSearchTool(Tool):
    name: ClassVar[str] = "runbook_search"
    description: ClassVar[str] = (
        "Search the team's runbooks (Markdown, by section). Use keywords from the symptom, e.g. "
        "'checkout OOMKilled memory limit' or 'postgres replication lag'. Returns the best sections "
        "with their title, source link and text; cite the source in your answer."
    )
    input_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 500, "description": "keywords"},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        },
        "required": ["query"],
        "additionalProperties": False,
    }
    output_schema: ClassVar[JSON] = {
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "maxItems": MAX_LIMIT,
                "items": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "source": {"type": "string"},
                        "snippet": {"type": "string", "maxLength": MAX_SNIPPET_CHARS + 1},
                        "score": {"type": "number"},
                    },
                    "required": ["title", "source", "snippet", "score"],
                    "additionalProperties": False,
                },
            },
            "hint": {"type": "string"},
        },
        "required": ["results"],
        "additionalProperties": False,
    }
    namespace_arg: ClassVar[str | None] = None
    long_text_fields: ClassVar[frozenset[str]] = frozenset({"snippet"})
    timeout_s: ClassVar[float] = 10.0

    def __init__(self, *, index: RunbookIndex) -> None:
        self._index = index

    async def _invoke(self, args: JSON, ctx: ToolContext) -> JSON:
        hits = await self._index.search(args["query"], limit=int(args.get("limit", DEFAULT_LIMIT)))
        out: JSON = {
            "results": [
                {
                    "title": h.title,
                    "source": h.source,
                    "snippet": _snippet(h.text),
                    "score": round(h.score, 4),
                }
                for h in hits
            ]
        }
        if not hits:
            out["hint"] = f"no runbook section matches {args['query']!r}; try other keywords"
        return out
