"""Agent benchmarks (issue #5).

1. Overhead per round — prompt build, cache breakpoints, compaction check, duplicate guard,
   result cap, usage accounting, stream forwarding, viewer guard — with a zero-latency Anthropic
   simulator and instant tools; the model call and the tool calls themselves are timed and
   subtracted. Target p95 ≤ 5 ms.
2. Input tokens for scripted investigations of six Kubernetes-simulator scenarios (2 tool rounds,
   the answer, one follow-up) through the real router and Kubernetes tools, versus a naive baseline
   that passes the raw Kubernetes API JSON and uses no prompt caching (HolmesGPT-style). Both
   conversations are counted by the same simulator. Target ≤ 50 %.
3. 200 concurrent investigations (3 rounds each) in one process, the simulator in a child
   process; peak RSS of the worker process. Target ≤ 400 MB.

    .venv/bin/python bench/agent.py [--jobs 300] [--concurrent 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from anthropic import AsyncAnthropic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.agent.base import Turn
from app.agent.claude import ClaudeAgent
from app.agent.loop import ToolLoop
from app.audit.log import PostgresAuditLog
from app.jobs import Job
from bench.scratch_db import scratch_pool
from kernel.audit import AuditEvent, canonical_hash
from kernel.metrics import Metrics
from kernel.scope import EffectiveScope, Identity, effective_scope
from sim.anthropic import AnthropicSim, SimReply
from sim.kubernetes import KubernetesSimulator
from tools.analyzers.tool import AnalyzeTool
from tools.base import Tool, ToolContext
from tools.blocklist import Blocklist
from tools.kubernetes.client import KubernetesClient
from tools.kubernetes.tools import K8sEventsTool, K8sListTool
from tools.router import ToolOutcome, ToolRouter

FINAL = "## Summary\nrecommender in shop is OOM-killed at its 256Mi limit.\n\n## Findings\n- evidence"


class MemoryAudit:
    """The agent's own audit events, kept in memory: these benches count tokens, not rows."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def write(self, event: AuditEvent) -> uuid.UUID:
        self.events.append(event)
        return event.id


def routed(tools: list[Tool], pool: asyncpg.Pool) -> ToolRouter:
    """A router as the app builds it: its audit rows and blocklist gate in PostgreSQL."""
    return ToolRouter(
        tools=tools,
        audit=PostgresAuditLog(pool=pool, agent_version="bench"),
        metrics=Metrics(),
        blocklist=Blocklist(pool=pool, prefix=f"aiops-bench-{uuid.uuid4().hex[:8]}"),
    )


class NullSurface:
    async def set_status(self, text: str) -> None:
        return None

    async def append(self, markdown: str) -> None:
        return None


def scope(role: str = "analyst") -> EffectiveScope:
    ident = Identity(
        slack_user_id="U1",
        subject=f"sub-{role}",
        username=role,
        roles=frozenset({role}),
        namespaces=frozenset({"shop"}),
    )
    return effective_scope(ident, channel_id="C1", channel_namespaces=None)


def job(text: str = "why does recommender keep restarting?") -> Job:
    return Job(
        job_id=uuid.uuid4().hex, kind="mention", channel_id="C1", user_id="U1", text=text, thread_ts="1.1"
    )


def three_rounds(body: dict[str, Any]) -> SimReply:
    """Deterministic model: two tool rounds (2 + 1 parallel calls), then the answer."""
    n = len(body["messages"])
    if n == 1:
        return SimReply(
            text="Checking.",
            tool_uses=[
                ("k8s_list", {"kind": "pod", "namespace": "shop"}),
                ("analyze", {"namespace": "shop"}),
            ],
        )
    if n == 3:
        return SimReply(tool_uses=[("k8s_events", {"namespace": "shop"})])
    return SimReply(text=FINAL)


class InstantRouter:
    """Returns a fixed, router-shaped outcome at once (isolates the agent's own overhead)."""

    def __init__(self) -> None:
        self._content = (
            '<tool_result name="x">'
            + json.dumps({"items": [{"name": f"p{i}"} for i in range(50)]})
            + "</tool_result>"
        )

    def catalog(self, s: EffectiveScope) -> list[dict[str, Any]]:
        schema = {
            "type": "object",
            "properties": {"namespace": {"type": "string"}},
            "additionalProperties": False,
        }
        return [
            {"name": n, "description": f"{n} tool " * 20, "input_schema": schema}
            for n in ("k8s_list", "analyze", "k8s_events", "prometheus_query")
        ]

    async def invoke(
        self, name: str, args: dict[str, Any], ctx: ToolContext, tool_use_id: str
    ) -> ToolOutcome:
        return ToolOutcome(
            tool_use_id, name, self._content, False, {"tool": name, "inputs_hash": canonical_hash(args)}
        )


# --- 1. overhead per round -------------------------------------------------------------------
class TimedLoop(ToolLoop):
    model_s = 0.0
    tools_s = 0.0

    async def _stream(self, params: dict[str, Any], on_text: Any) -> Any:
        t = time.perf_counter()
        try:
            return await super()._stream(params, on_text)
        finally:
            TimedLoop.model_s += time.perf_counter() - t

    async def _run_tools(self, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return await super()._run_tools(*a, **kw)
        finally:
            TimedLoop.tools_s += time.perf_counter() - t


async def bench_overhead(n_jobs: int) -> dict[str, float]:
    import app.agent.claude as claude_mod

    claude_mod.ToolLoop = TimedLoop  # type: ignore[attr-defined]  # bench-only instrumentation
    samples: list[float] = []
    async with AnthropicSim() as sim:
        sim.handler = three_rounds
        client = AsyncAnthropic(base_url=sim.base_url, api_key=sim.api_key)
        agent = ClaudeAgent(
            client=client, model="m", router=InstantRouter(), audit=MemoryAudit(), metrics=Metrics()
        )
        for i in range(n_jobs + 20):
            TimedLoop.model_s = TimedLoop.tools_s = 0.0
            t = time.perf_counter()
            await agent.answer(job(), scope("viewer" if i % 2 else "analyst"), [], NullSurface())
            total = time.perf_counter() - t
            if i >= 20:  # warm-up
                samples.append((total - TimedLoop.model_s - TimedLoop.tools_s) / 3 * 1000)
        await client.close()
    claude_mod.ToolLoop = ToolLoop  # type: ignore[attr-defined]
    q = statistics.quantiles(samples, n=100)
    return {"p50_ms": q[49], "p95_ms": q[94], "jobs": n_jobs}


# --- 2. input tokens vs naive ------------------------------------------------------------------
async def raw_get(k8s: KubernetesSimulator, path: str) -> Any:
    async with (
        aiohttp.ClientSession() as s,
        s.get(k8s.url + path, headers={"Authorization": f"Bearer {k8s.token}"}) as r,
    ):
        return await r.json()


def billed(u: dict[str, int]) -> float:
    """Input cost in 'uncached input token' units: cache writes 1.25x, cache reads 0.1x."""
    return u["input_tokens"] + 1.25 * u["cache_creation_input_tokens"] + 0.1 * u["cache_read_input_tokens"]


def processed(u: dict[str, int]) -> int:
    return u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]


SCENARIOS = [
    ("oomkilled", "shop"),
    ("crashloop", "shop"),
    ("imagepull", "shop"),
    ("stuck-rollout", "shop"),
    ("pending-pvc", "payments"),
    ("restart-burst", "payments"),
]


async def bench_tokens_one(scenario: str, ns: str, pool: asyncpg.Pool, tmp: Path) -> dict[str, float]:
    """Round 1: analyze + list pods; round 2: events; answer; then one follow-up in the thread."""
    async with KubernetesSimulator(scenario=scenario) as k8s, AnthropicSim() as sim:
        kube = KubernetesClient(kubeconfig=str(k8s.write_kubeconfig(tmp / f"kubeconfig-{scenario}")))
        tools: list[Tool] = [AnalyzeTool(client=kube), K8sListTool(client=kube), K8sEventsTool(client=kube)]
        router = routed(tools, pool)
        client = AsyncAnthropic(base_url=sim.base_url, api_key=sim.api_key)
        sim.script(
            [
                SimReply(
                    text="Checking.",
                    tool_uses=[
                        ("analyze", {"namespace": ns}),
                        ("k8s_list", {"kind": "pod", "namespace": ns}),
                    ],
                ),
                SimReply(tool_uses=[("k8s_events", {"namespace": ns})]),
                SimReply(text=FINAL),
                SimReply(text="It started at 09:10 UTC."),
            ]
        )
        agent = ClaudeAgent(client=client, model="m", router=router, audit=MemoryAudit(), metrics=Metrics())
        sc = scope_ns(ns)
        first = await agent.answer(job(), sc, [], NullSurface())
        history = [Turn("user", "why does recommender keep restarting?"), Turn("assistant", first.text)]
        await agent.answer(job("since when?"), sc, history, NullSurface())
        ours, ours_usage = list(sim.requests), list(sim.usages)

        # naive: same turns, raw API JSON as tool results, no cache_control anywhere
        pods = await raw_get(k8s, f"/api/v1/namespaces/{ns}/pods")
        events = await raw_get(k8s, f"/api/v1/namespaces/{ns}/events")
        deploys = await raw_get(k8s, f"/apis/apps/v1/namespaces/{ns}/deployments")
        rsets = await raw_get(k8s, f"/apis/apps/v1/namespaces/{ns}/replicasets")
        raw = {
            "analyze": {"pods": pods, "events": events, "deployments": deploys, "replicasets": rsets},
            "k8s_list": pods,
            "k8s_events": events,
        }
        naive = sum(naive_tokens(r, raw) for r in ours)
        await client.close()
        await kube.close()
    return {
        "requests": len(ours),
        "ours_billed": sum(billed(u) for u in ours_usage),
        "ours_processed": sum(processed(u) for u in ours_usage),
        "naive": naive,
    }


async def bench_tokens() -> dict[str, dict[str, float]]:
    tmp = Path(tempfile.mkdtemp())
    out = {}
    async with scratch_pool() as pool:
        for scenario, ns in SCENARIOS:
            out[scenario] = await bench_tokens_one(scenario, ns, pool, tmp)
    return out


def scope_ns(ns: str) -> EffectiveScope:
    ident = Identity(
        slack_user_id="U1",
        subject="sub-analyst",
        username="analyst",
        roles=frozenset({"analyst"}),
        namespaces=frozenset({ns}),
    )
    return effective_scope(ident, channel_id="C1", channel_namespaces=None)


def naive_tokens(body: dict[str, Any], raw: dict[str, Any]) -> int:
    """Token estimate of the same request with raw tool JSON and no caching."""
    from sim.anthropic import _segments, _strip_cache, estimate_tokens

    names: dict[str, str] = {}
    msgs = json.loads(json.dumps(body["messages"]))
    for m in msgs:
        if isinstance(m["content"], list):
            for b in m["content"]:
                if b.get("type") == "tool_use":
                    names[b["id"]] = b["name"]
                if b.get("type") == "tool_result":
                    b["content"] = json.dumps(raw.get(names.get(b["tool_use_id"], ""), {}))
    naive = {**body, "messages": msgs}
    return sum(estimate_tokens(_strip_cache(s)) for s in _segments(naive))


# --- 3. concurrency / RSS ----------------------------------------------------------------------
SIM_CHILD = """
import asyncio, sys
sys.path.insert(0, {root!r})
from sim.anthropic import AnthropicSim, SimReply
from bench.agent import three_rounds
async def main():
    async with AnthropicSim(api_key="bench") as sim:
        sim.handler = three_rounds
        print(sim.base_url, flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""


def rss_mb() -> tuple[float, float]:
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


ROOT = str(Path(__file__).resolve().parent.parent)


async def bench_concurrency(n: int) -> dict[str, float]:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SIM_CHILD.format(root=ROOT), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        base_url = (await child.stdout.readline()).decode().strip()
        client = AsyncAnthropic(base_url=base_url, api_key="bench")
        agent = ClaudeAgent(
            client=client,
            model="m",
            router=InstantRouter(),
            audit=MemoryAudit(),
            metrics=Metrics(),
            deadline_s=300,
        )
        before, _ = rss_mb()
        t = time.perf_counter()
        answers = await asyncio.gather(*(agent.answer(job(), scope(), [], NullSurface()) for _ in range(n)))
        wall = time.perf_counter() - t
        now, peak = rss_mb()
        await client.close()
    finally:
        child.terminate()
        await child.wait()
    ok = sum(1 for a in answers if a.text.startswith("## Summary"))
    return {
        "jobs": n,
        "ok": ok,
        "wall_s": wall,
        "rss_before_mb": before,
        "rss_after_mb": now,
        "peak_rss_mb": peak,
    }


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--concurrent", type=int, default=200)
    args = ap.parse_args()
    o = await bench_overhead(args.jobs)
    print(
        f"agent overhead per round: p50 {o['p50_ms']:.2f} ms, p95 {o['p95_ms']:.2f} ms "
        f"({args.jobs} jobs x 3 rounds; target p95 ≤ 5 ms) {'OK' if o['p95_ms'] <= 5 else 'OVER'}"
    )
    tk = await bench_tokens()
    tot_b = tot_p = tot_n = 0.0
    for name, r in tk.items():
        tot_b, tot_p, tot_n = tot_b + r["ours_billed"], tot_p + r["ours_processed"], tot_n + r["naive"]
        print(
            f"  input tokens {name:<14} ({r['requests']:.0f} requests): ours {r['ours_billed']:.0f} "
            f"billed-eq / {r['ours_processed']:.0f} processed vs naive {r['naive']:.0f} → "
            f"{r['ours_billed'] / r['naive']:.0%} / {r['ours_processed'] / r['naive']:.0%}"
        )
    print(
        f"input tokens, {len(tk)} scenarios (2 tool rounds + answer + follow-up each): ours "
        f"{tot_b / tot_n:.0%} of naive billed-equivalent, {tot_p / tot_n:.0%} of naive processed "
        f"(target ≤ 50 %) {'OK' if tot_b / tot_n <= 0.5 else 'OVER'}"
    )
    c = await bench_concurrency(args.concurrent)
    print(
        f"{c['jobs']} concurrent investigations: {c['ok']} answered in {c['wall_s']:.1f} s; RSS "
        f"{c['rss_before_mb']:.0f} → {c['rss_after_mb']:.0f} MB, peak {c['peak_rss_mb']:.0f} MB "
        f"(target ≤ 400 MB) {'OK' if c['peak_rss_mb'] <= 400 else 'OVER'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
