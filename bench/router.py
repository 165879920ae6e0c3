"""Per-call overhead of the tool router (validate + enforce + filter + sanitize + wrap + audit)
with instant tools returning realistic-size outputs (50 Prometheus series, 100 pods, and the
Kubernetes list tool's own output for 100 pods: bench/router_cases.py), each parsed from JSON
just before its call as a real tool's would be (every value a new string). Runs once
on the Python source, then again on the image's build, whose hot path mypyc compiles
(`--python-only` skips that second run).

Audit rows go to a real PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test)
in a fresh database created and dropped by this script (bench/scratch_db.py); the blocklist is
checked by the statement that writes each call's audit row, as in production.

    .venv/bin/python bench/router.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.audit.log import PostgresAuditLog
from bench.compiled import compiled_tree
from bench.router_baseline import baseline_pipeline, plain_clean, stdlib_escaped_json
from bench.router_cases import (
    InstantTool,
    K8sListBench,
    PodsTool,
    SeriesTool,
    k8s_list_output,
    pods_output,
    series_output,
)
from bench.scratch_db import scratch_database
from kernel.audit import AuditEvent, canonical_hash, sha256_hex
from kernel.metrics import Metrics
from kernel.scope import Identity, effective_scope
from tools import sanitize
from tools.base import JSON, Tool, ToolContext
from tools.blocklist import Blocklist
from tools.fast_clean import clean_in_scope
from tools.router import ToolRouter
from tools.schema import Violation
from tools.scope_filter import walk


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


class JsonschemaValidator:
    """The router's validator before fastjsonschema: jsonschema 2020-12, best_match."""

    def __init__(self, schema: JSON) -> None:
        self._v = Draft202012Validator(schema)

    def first_error(self, value: Any) -> Violation | None:
        error = best_match(self._v.iter_errors(value))
        return None if error is None else Violation(error.json_path, str(error.validator), error.message)


def with_jsonschema(router: ToolRouter) -> ToolRouter:
    """The same router with the old validators swapped in (everything else identical)."""
    for reg in router._tools.values():
        reg.inputs = JsonschemaValidator(reg.tool.input_schema)
        reg.outputs = JsonschemaValidator(reg.tool.output_schema)
    return router


async def measure(
    router: ToolRouter,
    tool: InstantTool,
    args: JSON,
    ctx: ToolContext,
    calls: range,
    output: Callable[[int], JSON],
) -> tuple[list[float], list[float]]:
    """Routed calls numbered `calls`; call i gets `output(i)`, made just before it (outside the
    timing), as a tool's freshly parsed result would be."""
    bare: list[float] = []
    routed: list[float] = []
    for i in calls:
        tool.output = output(i)
        t0 = time.perf_counter()
        await tool._invoke(args, ctx)
        t1 = time.perf_counter()
        out = await router.invoke(tool.name, args, ctx)
        t2 = time.perf_counter()
        assert not out.is_error, out.content[:300]
        bare.append((t1 - t0) * 1e6)
        routed.append((t2 - t1) * 1e6)
    return bare, routed


async def interleaved(
    routers: dict[str, ToolRouter],
    tool: InstantTool,
    args: JSON,
    ctx: ToolContext,
    calls: int,
    outputs: dict[str, Callable[[int], JSON]],
) -> dict[str, tuple[list[float], list[float]]]:
    """Before and after in alternating blocks of 50 calls (after 64 warm-up calls each): this
    machine's speed drifts by up to 2x over minutes, and both sides should see the same drift.
    The first call after a switch runs on caches the other side just used (about twice as slow,
    a cost of this alternation only): it is made, but not counted."""
    runs: dict[str, tuple[list[float], list[float]]] = {w: ([], []) for w in routers}
    blocks = [range(-64, 0), *(range(s, min(s + 50, calls)) for s in range(0, calls, 50))]
    for block in blocks:
        for which, router in routers.items():
            gc.collect()  # each side pays for its own garbage, not for the other's
            with baseline_pipeline() if which == "before" else contextlib.nullcontext():
                await measure(router, tool, args, ctx, range(-1, 0), outputs[which])  # the switch
                bare, routed = await measure(router, tool, args, ctx, block, outputs[which])
            if block.start >= 0:
                runs[which][0].extend(bare)
                runs[which][1].extend(routed)
    return runs


def parsed(output: JSON) -> JSON:
    """`output` as a tool hands it over: parsed from the backend's JSON by the stdlib (as the
    Prometheus and Kubernetes clients do), so every value is a new string whose hash is not
    known yet, while the keys are shared within the document."""
    return json.loads(json.dumps(output))


def _repeat(make: Callable[[int], JSON], base: int) -> Callable[[int], JSON]:
    """Call i gets the strings of call i - 64, freshly parsed: each seen before, none cached by identity."""
    return lambda i: parsed(make(base + i % 64))


def _fresh(make: Callable[[int], JSON], base: int) -> Callable[[int], JSON]:
    return lambda i: parsed(make(base + i))


def _timed(fn: Callable[[Any], Any], data: list[Any]) -> list[float]:
    times = []
    for d in data:
        t0 = time.perf_counter()
        fn(d)
        times.append((time.perf_counter() - t0) * 1e6)
    return times


def _cpu_stages(
    reg: Any, tool: Tool, args: JSON, ctx: ToolContext, *, before: bool
) -> dict[str, Callable[[Any], Any]]:
    """Every in-process stage of `ToolRouter.invoke`, in order, on one tool output `d`."""
    long = tool.long_text_fields

    def filter_and_sanitize(d: Any) -> Any:
        if before:  # two walks: the copying scope filter, then every string through clean_label
            return plain_clean(walk(d, ctx.scope, set(), [0, 0], in_list=False)[0], long_text_fields=long)
        return clean_in_scope(d, ctx.scope, long_text_fields=long, max_label_chars=sanitize.MAX_LABEL_CHARS)

    return {
        "validate in": lambda d: reg.inputs.first_error(args),
        "validate out": lambda d: reg.outputs.first_error(d),
        "scope filter + sanitize": filter_and_sanitize,
        "serialize+wrap": lambda d: (stdlib_escaped_json if before else sanitize.escaped_json)(d),
        "hashes": lambda d: (canonical_hash(args), sha256_hex(d if isinstance(d, str) else "")),
    }


async def stages(routers: dict[str, ToolRouter], cases: list[Any], ctx: ToolContext, calls: int) -> None:
    """Where the time goes: each stage on its own, before and after (µs). Each side gets its own
    freshly built outputs (new pod names), so neither finds the other's strings in a cache."""
    for label, tool, args, build in cases:
        print(f"\n{label + ', first sight: stage':<40}" + "".join(f"{h:>13}" for h in (
            "before p50", "before p95", "after p50", "after p95", "ratio p50", "ratio p95")))  # fmt: skip
        totals: dict[str, list[float]] = {}
        data = {
            which: [parsed(build(seed + r)) for r in range(calls)]
            for which, seed in (("before", 10_000), ("after", 20_000))
        }
        for step in ("validate in", "validate out", "scope filter + sanitize", "serialize+wrap", "hashes"):
            per: dict[str, list[float]] = {}
            for which, router in routers.items():
                fn = _cpu_stages(router._tools[tool.name], tool, args, ctx, before=which == "before")[step]
                inputs = data[which]
                if step == "hashes":
                    inputs = [sanitize.escaped_json(d) for d in inputs]
                per[which] = _timed(fn, inputs)
                totals.setdefault(which, [0.0] * calls)
                totals[which] = [a + b for a, b in zip(totals[which], per[which], strict=True)]
            _row(f"{step}", per["before"], per["after"])
        _row("in-process total", totals["before"], totals["after"])
        audit = []
        for _ in range(calls):
            t0 = time.perf_counter()
            await routers["after"]._audit.write_unless_blocked(
                AuditEvent(event_type="tool_call", user_id="kc-bench", tool_calls=[{}]),
                prefix="bench-stages", known=frozenset(),
            )
            audit.append((time.perf_counter() - t0) * 1e6)
        _row("audit row + gate (I/O)", audit, audit)


def _row(name: str, before: list[float], after: list[float], indent: int = 40) -> None:
    b50, b95, a50, a95 = pct(before, 50), pct(before, 95), pct(after, 50), pct(after, 95)
    print(f"{'  ' + name:<{indent}}{b50:>13.0f}{b95:>13.0f}{a50:>13.0f}{a95:>13.0f}"
          f"{b50 / a50 if a50 else 0:>12.1f}x{b95 / a95 if a95 else 0:>12.1f}x")  # fmt: skip


async def main(calls: int) -> None:
    prefix = f"aiops-bench-{uuid.uuid4().hex[:8]}"
    async with scratch_database() as (pool, connect):
        series, pods, k8s_list = SeriesTool(), PodsTool(), K8sListBench()
        blocklist = Blocklist(pool=pool, prefix=prefix)
        audit = PostgresAuditLog(pool=pool, agent_version="bench", connect=connect)  # as the app's

        def build() -> ToolRouter:
            tools = [series, pods, k8s_list]
            return ToolRouter(tools=tools, audit=audit, metrics=Metrics(), blocklist=blocklist)

        routers = {"before": with_jsonschema(build()), "after": build()}
        ident = Identity("U1", "kc-bench", "bench", frozenset({"viewer"}), frozenset({"shop", "payments"}))
        ctx = ToolContext(scope=effective_scope(ident, channel_id=None, channel_namespaces=None), job_id="b")
        cases = [
            ("50 series", series, {"query": "rate(http_requests_total[5m])"}, series_output),
            ("100 pods", pods, {"namespace": "shop"}, pods_output),
            ("k8s_list, 100 pods", k8s_list, {"namespace": "shop"}, k8s_list_output),
        ]
        print(f"router overhead, {calls} calls per case (µs; audit and blocklist gate → PostgreSQL)")
        print("before = jsonschema validators, a copying scope filter, every string through clean_label,")
        print("         the stdlib JSON encoder (bench/router_baseline.py); after = the router as it is")
        print("repeat = every string seen in an earlier call; first sight = every pod name / series new;")
        print("every output parsed from JSON just before its call, as a tool hands it over")
        print(f"{'end-to-end overhead':<46}{'bare p50':>10}" + "".join(f"{h:>13}" for h in (
            "before p50", "before p95", "after p50", "after p95", "ratio p50", "ratio p95")))  # fmt: skip
        for blocked in (False, True):
            if blocked:  # an unrelated blocked value: the router now digests every string of the result
                await blocklist.block(["ignore previous instructions"])
            for label, tool, args, make_output in cases:
                for sight in ("repeat", "first sight"):
                    sanitize._CLEAN.clear()  # cold start; the sides' strings differ (seeds), so
                    sanitize.clean_label.cache_clear()  # neither warms the other's caches
                    sanitize.redact_secrets.cache_clear()
                    outputs = {}
                    for which in routers:
                        seed = 1_000 * (which == "before") + 100_000 * blocked
                        if sight == "repeat":  # every string seen 64 calls ago
                            outputs[which] = _repeat(make_output, seed)
                        else:  # a new result each call: every pod name / series new
                            outputs[which] = _fresh(make_output, seed + 10_000)
                    runs = await interleaved(routers, tool, args, ctx, calls, outputs)
                    bare = runs["after"][0]
                    over = {w: [r - b for b, r in zip(*runs[w], strict=True)] for w in runs}
                    name = f"{label}, {sight}" + (" (blocklist on)" if blocked else "")
                    print(f"{name:<46}{pct(bare, 50):>10.1f}", end="")
                    _row("", over["before"], over["after"], indent=0)
        await stages(routers, cases, ctx, calls)
        await audit.aclose()


def compiled_run(calls: int) -> None:
    """The same bench again on the image's build: the hot path compiled by mypyc (bench/compiled.py)."""
    with tempfile.TemporaryDirectory(prefix="aiops-bench-compiled-") as work:
        tree = compiled_tree(Path(work))
        print("\n== the same, with the hot path compiled by mypyc as the image builds it")
        subprocess.run([sys.executable, "bench/router.py", "--calls", str(calls), "--python-only"],
                       cwd=tree, check=True)  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--python-only", action="store_true", help="skip the compiled (image) run")
    cli = parser.parse_args()
    print(f"hot path: {'compiled' if sanitize.__file__.endswith('.so') else 'Python source'}")
    asyncio.run(main(cli.calls))
    if not cli.python_only:
        compiled_run(cli.calls)
