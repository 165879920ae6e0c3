"""Deterministic analyzers (`analyze` tool): known failure patterns over the scoped cluster state and
firing alerts, no LLM. They also power the agent's offline mode, so findings read on their own."""
