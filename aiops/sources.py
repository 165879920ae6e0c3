"""The data sources the tools read, built from settings: Prometheus, Kubernetes (a kubeconfig or the
pod's service account) and the runbook index (Qdrant, with optional dense vectors)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aiops.tls import prometheus_session
from app.config import Secrets, Settings
from tools.base import Tool
from tools.registry import build_tools

if TYPE_CHECKING:
    import asyncpg

    from tools.kubernetes.client import KubernetesClient
    from tools.runbooks.embeddings import EmbeddingsClient

IN_CLUSTER_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def build_embedder(settings: Settings, secrets: Secrets) -> EmbeddingsClient | None:
    """Dense runbook vectors only when AIOPS_EMBEDDINGS_URL is set; the key is optional (local
    OpenAI-compatible servers often run without one)."""
    from tools.runbooks.embeddings import EmbeddingsClient

    if not settings.embeddings_url:
        return None
    return EmbeddingsClient(
        url=settings.embeddings_url, model=settings.embeddings_model, api_key=secrets.embeddings_api_key
    )


def kubernetes_client(settings: Settings, *, user_agent: str | None = None) -> KubernetesClient | None:
    """A kubeconfig (KUBECONFIG), else the pod's service account when running in-cluster, else None."""
    from tools.kubernetes.client import KubernetesClient

    if settings.kubeconfig:
        return KubernetesClient(kubeconfig=str(settings.kubeconfig), user_agent=user_agent)
    if IN_CLUSTER_TOKEN.exists():  # running in a pod: the service account's read-only RBAC
        return KubernetesClient(kubeconfig=None, user_agent=user_agent)
    return None


def build_tools_for(settings: Settings, secrets: Secrets, pool: asyncpg.Pool | None = None) -> list[Tool]:
    """Configured data sources contribute their tools; runbooks always (Qdrant local mode
    under AIOPS_DATA_DIR when QDRANT_URL is not set; connected lazily, on first search).
    `pool`: where the change watcher's records are (k8s_changes reads them too)."""
    from app.changes.store import ChangeStore
    from tools.prometheus.client import PrometheusClient
    from tools.runbooks.index import RunbookIndex

    prometheus = (
        PrometheusClient(url=settings.prometheus_url, session=prometheus_session(settings))
        if settings.prometheus_url
        else None
    )
    kubernetes = kubernetes_client(settings)
    qdrant_key = secrets.qdrant_api_key.get_secret_value() if secrets.qdrant_api_key else None
    runbooks = RunbookIndex.open(
        url=settings.qdrant_url,
        data_dir=settings.data_dir,
        api_key=qdrant_key,
        embedder=build_embedder(settings, secrets),
    )
    return build_tools(
        prometheus=prometheus,
        kubernetes=kubernetes,
        runbooks=runbooks,
        change_history=ChangeStore(pool=pool) if pool is not None else None,
    )
