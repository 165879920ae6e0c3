"""The one list of analyzers, in the order they run. Adding one = a line here."""

from __future__ import annotations

from tools.analyzers import alerts, nodes, pods, storage, workloads
from tools.analyzers.base import Analyzer

ANALYZERS: dict[str, Analyzer] = {
    "crashloop": pods.crashloop,
    "oomkilled": pods.oomkilled,
    "image_pull": pods.image_pull,
    "container_config": pods.container_config,
    "unschedulable": pods.unschedulable,
    "readiness": pods.readiness,
    "restart_burst": pods.restart_burst,
    "workload_unavailable": workloads.workload_unavailable,
    "failed_job": workloads.failed_jobs,
    "pending_pvc": storage.pending_pvc,
    "node_health": nodes.node_health,
    "firing_alert": alerts.firing_alerts,
}
