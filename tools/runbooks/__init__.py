"""Runbook search: Markdown chunked by heading, indexed in Qdrant with sparse BM25-style
vectors (no model download), searched by the `runbook_search` tool."""
