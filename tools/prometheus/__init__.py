"""Prometheus tools: `prometheus_query`, `prometheus_range_query`, `prometheus_alerts`.

Data path: tools.py (the three `Tool`s) → enforce.py (parse, add the namespace matcher to every
selector, re-parse and verify) with printer.py (our escaping PromQL printer) → client.py (the
only blocking HTTP, via asyncio.to_thread) → summarize.py (scope filter, stats, top-k, grid) /
alerts.py (alert scope filter) → graph.py (PNG). Texts for the model live in messages.py.
"""
