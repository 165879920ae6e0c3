"""The bot's own Prometheus metrics, served on GET /metrics.

One `Metrics` object per process, built by the composition root and passed down
(no module-level registry: tests build their own).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

SLOW_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 180.0, 300.0)
"""An agent job (and a long LLM turn) runs for minutes: buckets up to 300 s."""


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_received = Counter(
            "aiops_events_received", "Inbound events accepted onto the queue", ["source"], registry=r
        )
        self.events_duplicate = Counter(
            "aiops_events_duplicate", "Inbound events dropped as retries/duplicates", ["source"], registry=r
        )
        self.auth_failures = Counter(
            "aiops_auth_failures", "Authentication/authorization failures", ["reason"], registry=r
        )
        self.scope_denials = Counter(
            "aiops_scope_denials", "Tool calls refused for reaching outside the effective scope", ["tool"],
            registry=r,
        )
        self.injection_detections = Counter(
            "aiops_injection_detections", "Prompt-injection patterns found in tool data", ["tool"], registry=r
        )
        self.tool_calls = Counter(
            "aiops_tool_calls", "Tool calls through the router", ["tool", "outcome"], registry=r
        )
        self.tool_latency = Histogram(
            "aiops_tool_latency_seconds", "Tool call latency", ["tool"], registry=r
        )
        self.jobs_done = Counter("aiops_jobs", "Jobs finished", ["kind", "outcome"], registry=r)
        self.job_latency = Histogram(
            "aiops_job_latency_seconds", "Job latency, dequeue to answer", buckets=SLOW_BUCKETS, registry=r
        )
        self.jobs_reclaimed = Counter("aiops_jobs_reclaimed", "Jobs reclaimed from dead workers", registry=r)
        self.llm_tokens = Counter(
            "aiops_llm_tokens", "Anthropic tokens", ["kind"], registry=r
        )  # kind: input | output | cache_read | cache_write
        self.llm_errors = Counter("aiops_llm_errors", "Anthropic API errors", ["status"], registry=r)
        self.queue_depth = Gauge("aiops_queue_pending", "Jobs pending in the consumer group", registry=r)
        # Used by deploy/base/prometheusrule.yaml (issue 12). A scope *violation* is data or a backend
        # request outside the scope that only the second layer caught (layer: result_filter |
        # backend_request): a bug or a bypass, paged. Ordinary refusals stay in scope_denials.
        self.scope_violations = Counter(
            "aiops_scope_violations", "Out-of-scope data or backend requests caught after the first layer",
            ["tool", "layer"], registry=r,
        )
        self.queue_lag = Gauge(
            "aiops_queue_lag", "Stream entries not yet delivered to the consumer group", registry=r
        )
        self.queue_oldest_pending_age = Gauge(
            "aiops_queue_oldest_pending_age_seconds", "Age of the oldest delivered, unacknowledged job",
            registry=r,
        )
        # Short Jobs cannot be scraped: each records its last success, the workers export it (0 = never).
        self.task_last_success = Gauge(
            "aiops_task_last_success_timestamp_seconds",
            "Unix time of the last successful run of a scheduled task (audit_export, audit_verify, "
            "audit_prune, retention); 0 = never",
            ["task"], registry=r,
        )
        # Audit export/verify (short CronJobs store their outcome in the database; the long-running
        # process exports it): alert on the age of the last verified export and a failed verify.
        self.audit_last_verified_export = Gauge(
            "aiops_audit_last_verified_export_timestamp_seconds",
            "End of the newest UTC day whose export verified in the latest verify run (0: none)", registry=r,
        )
        self.audit_last_export = Gauge(
            "aiops_audit_last_export_timestamp_seconds", "When the newest audit export was written",
            registry=r,
        )
        self.audit_verify_last_run = Gauge(
            "aiops_audit_verify_last_run_timestamp_seconds", "When the latest audit verify finished",
            registry=r,
        )
        self.audit_verify_ok = Gauge(
            "aiops_audit_verify_ok", "1 if the latest audit verify found everything intact, else 0",
            registry=r,
        )

        # ---- production observability (issue 12) ----
        self.build_info = Gauge(
            "aiops_build_info", "Always 1; the labels say what runs", ["version", "git_sha"], registry=r
        )
        self.llm_latency = Histogram(
            "aiops_llm_latency_seconds", "One LLM call (a streamed turn), start to final message",
            buckets=SLOW_BUCKETS, registry=r,
        )
        self.slack_api_errors = Counter(
            "aiops_slack_api_errors", "Slack Web API calls answered ok=false or failing", ["method", "error"],
            registry=r,
        )
        self.slack_rate_limited = Counter(
            "aiops_slack_rate_limited", "Slack Web API 429 answers (each is retried after Retry-After)",
            ["method"], registry=r,
        )
        self.tools_paused = Gauge(
            "aiops_tools_paused", "1 while the kill switch pauses every tool call", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
