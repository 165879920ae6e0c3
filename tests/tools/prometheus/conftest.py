"""The real Prometheus fixture for this directory (session-scoped: started once)."""

from tests.fixtures.prometheus import prometheus_server, prometheus_url  # noqa: F401
