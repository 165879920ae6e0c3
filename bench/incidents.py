"""Incident memory benchmark (issue 15 item 3): what remembering and retrieving costs.

Stores N resolved incidents (30 namespaces, 6 alert names, within the last 80 days) in Qdrant local
mode, then times `similar()` for a viewer with two namespaces and for an admin, and prints the
tokens the `<past_incidents>` block adds to a triage prompt (three incidents). Local mode searches by
brute force; the Qdrant server (production, several workers) indexes the payload.

    .venv/bin/python bench/incidents.py [--incidents 200 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.incidents.memory import IncidentMemory, IncidentRecord
from app.incidents.triage import alert_query, block
from kernel.scope import EffectiveScope, Identity, effective_scope
from sim.anthropic import estimate_tokens

NAMESPACES = [f"team{i}" for i in range(30)]
ALERTS = ["KubePodCrashLooping", "HighErrorRate", "DiskFull", "PaymentsOOM", "LatencyHigh", "CertExpiring"]


def scope(role: str, namespaces: set[str]) -> EffectiveScope:
    ident = Identity(slack_user_id="U", subject="s", username="u", roles=frozenset({role}),
                     namespaces=frozenset(namespaces))
    return effective_scope(ident, channel_id="C", channel_namespaces=None)


def record(i: int, rnd: random.Random) -> IncidentRecord:
    name, ns = rnd.choice(ALERTS), rnd.choice(NAMESPACES)
    return IncidentRecord(
        channel_id="C0INC", thread_ts=f"1700000000.{i:06d}", alertname=name, namespaces=(ns,),
        labels={"alertname": name, "namespace": ns, "severity": "page"},
        link=f"https://example.slack.com/archives/C0INC/p1700000000{i:06d}",
        resolved_at=datetime.now(UTC) - timedelta(days=rnd.randint(0, 80)),
        findings=(f"{name} in {ns}: pods restarted after deploy {i}.", "Memory at the limit within minutes."),
        fix="rolled back the deploy", summary=f"Alertmanager FIRING: {name} in `{ns}`",
    )


async def run(n: int) -> None:
    memory = IncidentMemory.open(url=None, data_dir=Path(tempfile.mkdtemp()))
    rnd = random.Random(1)
    started = time.perf_counter()
    for i in range(n):
        await memory.store(record(i, rnd))
    store_ms = (time.perf_counter() - started) / n * 1000
    query = alert_query({"commonLabels": {"alertname": "HighErrorRate", "namespace": "team3"}})
    medians = {}
    askers = [("viewer, 2 namespaces", scope("viewer", {"team3", "team7"})), ("admin", scope("admin", set()))]
    for name, s in askers:
        times = []
        for _ in range(30):
            t = time.perf_counter()
            await memory.similar(query, s)
            times.append((time.perf_counter() - t) * 1000)
        medians[name] = statistics.median(times)
    past = await memory.similar(query, scope("admin", set()))
    await memory.close()
    shown = ", ".join(f"{k} {v:.1f} ms" for k, v in medians.items())
    print(f"{n} incidents: store {store_ms:.1f} ms each (with its purge); similar() median: {shown}; "
          f"<past_incidents> for {len(past)}: ~{estimate_tokens(block(past))} tokens")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, nargs="+", default=[200, 2000])
    for n in ap.parse_args().incidents:
        asyncio.run(run(n))


if __name__ == "__main__":
    main()
