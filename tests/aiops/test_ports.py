"""`aiops serve` and `aiops worker` as processes: /metrics only on AIOPS_METRICS_PORT (with build
info and the queue gauges), never on the public webhook port, which serves only its four paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.proc import get, pod_env, running


def test_serve_keeps_metrics_off_the_public_port(tmp_path: Path, pg_dsn: str, redis_prefix: str) -> None:
    env = pod_env(tmp_path, database_url=pg_dsn, prefix=redis_prefix)
    public = f"http://127.0.0.1:{env['AIOPS_HTTP_PORT']}"
    metrics = f"http://127.0.0.1:{env['AIOPS_METRICS_PORT']}"
    with running(["serve", "--no-workers"], env, ready_url=public + "/healthz"):
        assert get(public + "/metrics")[0] == 404
        assert get(public + "/healthz")[0] == 200
        status, text = get(metrics + "/metrics")
        assert status == 200
        assert 'aiops_build_info{git_sha="proc-sha"' in text
        assert "aiops_queue_lag" in text and "aiops_queue_oldest_pending_age_seconds" in text


def test_worker_serves_metrics_and_health(tmp_path: Path, pg_dsn: str, redis_prefix: str) -> None:
    env = pod_env(tmp_path, database_url=pg_dsn, prefix=redis_prefix)
    metrics = f"http://127.0.0.1:{env['AIOPS_METRICS_PORT']}"
    with running(["worker"], env, ready_url=metrics + "/healthz"):
        assert get(metrics + "/healthz")[0] == 200
        status, text = get(metrics + "/metrics")
        assert status == 200 and "aiops_jobs" in text and "aiops_build_info" in text
        with pytest.raises(OSError):  # a worker has no public port at all
            get(f"http://127.0.0.1:{env['AIOPS_HTTP_PORT']}/healthz")


def test_api_serves_metrics_and_health_on_the_metrics_port(
    tmp_path: Path, pg_dsn: str, redis_prefix: str
) -> None:
    """deploy/base/api.yaml probes /readyz and /healthz on the `metrics` port (9464)."""
    from tests.fixtures.proc import free_port

    api_port = str(free_port())
    env = pod_env(tmp_path, database_url=pg_dsn, prefix=redis_prefix,
                  extra={"AIOPS_API_PORT": api_port, "KEYCLOAK_URL": "http://127.0.0.1:1"})
    metrics = f"http://127.0.0.1:{env['AIOPS_METRICS_PORT']}"
    with running(["api"], env, ready_url=metrics + "/healthz"):
        assert get(metrics + "/healthz")[0] == 200
        status, body = get(metrics + "/readyz")
        assert status == 200 and '"postgres": "ok"' in body and '"schema": "ok"' in body
        status, text = get(metrics + "/metrics")
        assert status == 200 and 'aiops_build_info{git_sha="proc-sha"' in text
        assert "aiops_auth_failures" in text  # the API's own refusals are scraped from here
        status, text = get(f"http://127.0.0.1:{api_port}/metrics")
        assert status != 200 and "aiops_build_info" not in text  # never on the public API port
