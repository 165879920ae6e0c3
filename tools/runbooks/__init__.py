"""Runbook search: Markdown chunked by heading, indexed in Qdrant with sparse BM25-style
vectors (no model download) and, when AIOPS_EMBEDDINGS_URL is set, dense vectors from an
OpenAI-compatible endpoint fused with them; searched by the `runbook_search` tool."""
