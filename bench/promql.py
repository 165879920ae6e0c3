"""Cost of PromQL namespace enforcement (parse → print with the enforced matcher → re-parse →
verify) per query, for a few realistic query shapes; p50/p95 in µs. No server needed.

    .venv/bin/python bench/promql.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from tools.prometheus.enforce import enforce

QUERIES = {
    "selector": 'up{job="web"}',
    "rate_by_pod": 'sum by (pod) (rate(http_requests_total{job="web",code=~"5.."}[5m]))',
    "ratio": (
        'sum by (pod) (rate(http_requests_total{code=~"5.."}[5m])) '
        "/ on(pod) group_left() sum by (pod) (rate(http_requests_total[5m]))"
    ),
    "subquery": "max_over_time(sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))[1h:1m])",
    "nested_10_selectors": " or ".join(f'metric_{i}{{pod=~"web-.*"}} offset {i + 1}m' for i in range(10)),
}
SCOPES = {"1 ns": frozenset({"team-a"}), "20 ns": frozenset(f"team-{i}" for i in range(20))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    print(f"{'query':<22} {'scope':<6} {'p50 µs':>8} {'p95 µs':>8}  sent chars")
    for name, query in QUERIES.items():
        for scope_name, scope in SCOPES.items():
            samples = []
            sent = ""
            for _ in range(rounds):
                t0 = time.perf_counter_ns()
                sent = enforce(query, scope)
                samples.append((time.perf_counter_ns() - t0) / 1000)
            samples.sort()
            p50 = statistics.median(samples)
            p95 = samples[int(len(samples) * 0.95) - 1]
            print(f"{name:<22} {scope_name:<6} {p50:>8.1f} {p95:>8.1f}  {len(sent)}")


if __name__ == "__main__":
    main()
