"""The kernel: the vocabulary every layer shares, importing nothing of ours.

errors (the exception tree), scope (verified identity, role matrix, the effective scope of a job),
audit (the audit event and the sink protocol), metrics (the process's Prometheus registry).
`tools/`, `app/`, `handlers/` and the composition root (`aiops/`) all import from here; nothing
here imports from them.
"""
