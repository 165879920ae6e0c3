"""The single choke point between the model and data.

invoke(): input schema → scope → tool._invoke() (timeout) → output schema →
second-layer namespace filter + blocklist → sanitize/truncate/redact → size cap →
XML wrap → audit (the row is written only if no value of the result is blocked right then).
It never raises for tool problems: the model gets an error it can act on, and anything
unexpected fails closed (no data passes).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kernel.audit import AuditEvent, GatedAuditSink, canonical_hash, sha256_hex
from kernel.errors import ResultTooLarge, SchemaInvalid, ScopeDenied, ToolError, ToolTimeout
from kernel.metrics import Metrics
from kernel.scope import EffectiveScope
from tools import sanitize
from tools.base import JSON, Artifact, Tool, ToolContext
from tools.blocklist import Blocklist, digest
from tools.fast_clean import NeedsFilter, clean_in_scope
from tools.schema import Validator, compile_schema
from tools.scope_filter import OutOfScope, unique_strings, walk

log = logging.getLogger(__name__)

DEFAULT_MAX_RESULT_CHARS = 60_000
MAX_ERROR_CHARS = 2_000
_GATE_ATTEMPTS = 3  # audit-gate rounds before a result is withheld (each follows a new block)
_UNSETTLED = "values of this result were being blocked while it was checked; withheld, try again"
RESULT_FILTER = "result_filter"
"""`aiops_scope_violations_total{layer}` of a catch by the second layer (the scope-bypass alert's)."""
WITHHELD_KEY = "_withheld"
"""Added to a result the second layer shortened, so the model knows data was held back."""
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ToolOutcome:
    tool_use_id: str
    name: str
    content: str
    """`<tool_result name="…">…</tool_result>`, escaped: data can never open or close a tag."""
    is_error: bool
    audit: dict[str, Any]
    """{tool, inputs_hash, result_hash} — goes into the query event's `tool_calls`."""
    artifacts: tuple[Artifact, ...] = field(default_factory=tuple)


@dataclass
class _Registered:
    tool: Tool
    inputs: Validator
    outputs: Validator


class _FilteredOut(ScopeDenied):
    """The tool returned out-of-scope data the second layer could not drop item by item."""


class ToolRouter:
    def __init__(
        self,
        *,
        tools: Sequence[Tool],
        audit: GatedAuditSink,
        metrics: Metrics,
        blocklist: Blocklist,
        max_result_chars: int = DEFAULT_MAX_RESULT_CHARS,
        max_label_chars: int = sanitize.MAX_LABEL_CHARS,
    ) -> None:
        self._tools: dict[str, _Registered] = {}
        for tool in tools:
            self._tools[tool.name] = self._register(tool)
        self._audit = audit
        self._metrics = metrics
        self._blocklist = blocklist
        self._max_result_chars = max_result_chars
        self._max_label_chars = max_label_chars
        for name in self._tools:  # from zero: `increase()` in the scope-bypass alert sees the first catch
            metrics.scope_violations.labels(name, RESULT_FILTER)

    def _register(self, tool: Tool) -> _Registered:
        name = tool.name
        if not _NAME_RE.match(name):
            raise ValueError(f"tool name {name!r} must match {_NAME_RE.pattern}")
        if name in self._tools:
            raise ValueError(f"duplicate tool name {name!r}")
        if tool.input_schema.get("additionalProperties") is not False:
            raise ValueError(f"tool {name!r}: input_schema must set additionalProperties: false")
        try:
            inputs, outputs = compile_schema(tool.input_schema), compile_schema(tool.output_schema)
        except ValueError as exc:
            raise ValueError(f"tool {name!r}: {exc}") from exc
        return _Registered(tool, inputs, outputs)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def catalog(self, scope: EffectiveScope) -> list[JSON]:
        """Anthropic tool definitions this scope may use (admin-only tools need cluster-wide)."""
        if not scope.may_query:
            return []
        return [
            r.tool.catalog_entry()
            for r in self._tools.values()
            if scope.cluster_wide or not r.tool.admin_only
        ]

    async def invoke(self, name: str, args: JSON, ctx: ToolContext, tool_use_id: str = "") -> ToolOutcome:
        started = time.perf_counter()
        reg = self._tools.get(name)
        safe_name = name if reg is not None else "unknown"
        namespace = _requested_namespace(reg.tool, args) if reg is not None else None
        # Own context per call: the agent runs tools in parallel on one job context, and a
        # graph must be attributed to (and withheld with) the call that drew it.
        ctx = dataclasses.replace(ctx, artifacts=[])
        known = self._blocklist.known()
        outcome, is_error = "ok", False
        payload: Any = None
        result: Any = None
        try:
            if reg is None:
                raise SchemaInvalid(f"unknown tool; available tools: {', '.join(self._tools)}")
            result = await self._run(reg, args, ctx, namespace)
            payload, own = await self._clean(reg.tool, result, ctx, namespace, args, known)
            known |= own  # values it just blocked itself: the sanitizer already withheld them
            content = self._content(safe_name, args, payload)
        except ToolError as exc:
            outcome, is_error = type(exc).__name__, True
            content = await self._failed(safe_name, exc, ctx, args, namespace)
        except Exception as exc:
            outcome, is_error, content = "internal", True, self._internal(safe_name, exc)

        retries = 0
        while True:
            entry = self._entry(reg, safe_name, args, content, None if is_error else payload)
            event = AuditEvent(
                event_type="tool_call",
                user_id=ctx.scope.user_id,
                session_id=ctx.session_id,
                namespace=namespace,
                tool_calls=[entry],
                latency_ms=int((time.perf_counter() - started) * 1000),
            )
            try:
                if is_error:  # no result in it (its message went through the label sanitizer)
                    await self._audit.write(event)
                    break
                prefix = self._blocklist.prefix
                live = await self._audit.write_unless_blocked(event, prefix=prefix, known=known)
            except Exception as exc:  # no audit row → no data (fail closed)
                log.error("audit write for tool %s failed: %s", safe_name, type(exc).__name__)
                outcome, is_error = "audit_unavailable", True
                withheld = {"error": "audit log unavailable; result withheld"}
                content = sanitize.wrap(safe_name, withheld, error=True)
                entry["result_hash"] = sha256_hex(content)
                break
            if live is None:
                break
            # A block this worker had not seen: nothing written. Learn it, clean again (rare).
            assert reg is not None
            self._blocklist.learn(live)
            known = self._blocklist.known()
            retries += 1
            if retries == _GATE_ATTEMPTS:
                outcome, is_error = "blocklist_unsettled", True
                content = sanitize.wrap(safe_name, {"error": _UNSETTLED}, error=True)
                continue
            try:
                payload, _ = await self._clean(reg.tool, result, ctx, namespace, args, known, again=True)
                content = self._content(safe_name, args, payload)
            except ToolError as exc:
                outcome, is_error = type(exc).__name__, True
                content = await self._failed(safe_name, exc, ctx, args, namespace)
            except Exception as exc:  # as on the first pass: fail closed, never raise
                outcome, is_error, content = "internal", True, self._internal(safe_name, exc)

        self._metrics.tool_calls.labels(safe_name, outcome).inc()
        self._metrics.tool_latency.labels(safe_name).observe(time.perf_counter() - started)
        artifacts = () if is_error else tuple(ctx.artifacts)
        return ToolOutcome(tool_use_id, safe_name, content, is_error, entry, artifacts)

    def _content(self, name: str, args: JSON, payload: Any) -> str:
        content = sanitize.wrap(name, payload)
        if len(content) > self._max_result_chars:
            raise ResultTooLarge(_too_large(name, args, len(content), self._max_result_chars))
        return content

    @staticmethod
    def _entry(reg: _Registered | None, name: str, args: JSON, content: str, payload: Any) -> dict[str, Any]:
        """The call's part of the audit row; declared fields of the result only when it passed."""
        entry = {"tool": name, "inputs_hash": canonical_hash(args), "result_hash": sha256_hex(content)}
        if reg is not None and payload is not None:
            entry.update(_audit_fields(reg.tool.audit_args, args))
            entry.update(_audit_fields(reg.tool.audit_result_fields, payload))
        return entry

    async def _failed(
        self, name: str, exc: ToolError, ctx: ToolContext, args: JSON, namespace: str | None
    ) -> str:
        """The model's error text for a refused or failed call (with its security row if any)."""
        try:
            if isinstance(exc, ScopeDenied):
                await self._scope_denied(name, exc, ctx, args)
            return await self._error(name, str(exc), ctx, namespace)
        except Exception as inner:
            return self._internal(name, inner)

    @staticmethod
    def _internal(name: str, exc: BaseException) -> str:
        """Fail closed. The exception text may hold secrets or data, so only its type is logged."""
        log.error("tool %s failed: %s", name, type(exc).__name__)
        return sanitize.wrap(name, {"error": f"{name} failed internally; no data was returned"}, error=True)

    async def _run(self, reg: _Registered, args: JSON, ctx: ToolContext, namespace: str | None) -> Any:
        """Input schema, scope, then the tool itself: its result, schema-checked, not yet cleaned."""
        tool, scope = reg.tool, ctx.scope
        _validate(reg.inputs, args, f"invalid arguments for {tool.name}", echo=True)
        if not scope.may_query:
            raise ScopeDenied("you have no role that allows querying data", namespace=namespace)
        if tool.admin_only and not scope.cluster_wide:
            raise ScopeDenied(f"{tool.name} needs cluster-wide access, which this scope does not have")
        if tool.namespace_arg and tool.namespace_arg in args and not scope.allows(namespace):
            raise ScopeDenied(
                f"namespace {namespace!r} is outside your scope (allowed: {scope.describe()})",
                namespace=namespace,
            )
        return await self._call(reg, args, ctx)

    async def _call(self, reg: _Registered, args: JSON, ctx: ToolContext) -> Any:
        """The tool's own call, under its timeout, and its result checked against its schema."""
        tool = reg.tool
        try:
            async with asyncio.timeout(tool.timeout_s):
                result = await tool._invoke(args, ctx)
        except TimeoutError:
            raise ToolTimeout(
                f"{tool.name} did not answer within {tool.timeout_s:g}s; narrow the query "
                "(fewer series, shorter range, a namespace or label selector)"
            ) from None
        _validate(reg.outputs, result, f"{tool.name} returned data that does not match its schema; withheld")
        return result

    async def _clean(
        self,
        tool: Tool,
        result: Any,
        ctx: ToolContext,
        namespace: str | None,
        args: JSON,
        known: frozenset[str],
        *,
        again: bool = False,
    ) -> tuple[Any, frozenset[str]]:
        """What the model may see of `result`, given the digests `known` to be blocked, and the
        digests of the values it blocked itself (withheld by the sanitizer already). `again`:
        a retry after the audit gate taught us new blocks; the security rows, metrics and blocks
        of this result were written by the first pass and are not repeated."""
        long, cap = tool.long_text_fields, self._max_label_chars
        blocked = self._blocklist.matches(unique_strings(result), known) if known else set()
        outcome: tuple[Any, sanitize.Report] | None = None
        if not blocked:
            try:  # the usual result: scope check and sanitizing in one pass that copies only changes
                outcome = clean_in_scope(result, ctx.scope, long_text_fields=long, max_label_chars=cap)
            except NeedsFilter:
                pass
        if outcome is None:  # the full path: the copying filter, then the sanitizer
            filtered = await self._filter(result, tool.name, ctx, namespace, args, blocked, quiet=again)
            outcome = sanitize.clean(filtered, long_text_fields=long, max_label_chars=cap)
        cleaned, report = outcome
        if not report.injections or again:
            return cleaned, frozenset()
        await self._injection(tool.name, ctx, namespace, report.injections, args)
        left = unique_strings(cleaned)  # the sanitizer withheld them: checked, not assumed
        return cleaned, frozenset(digest(v) for v in report.injections if v not in left)

    async def _filter(
        self,
        result: Any,
        name: str,
        ctx: ToolContext,
        namespace: str | None,
        args: JSON,
        blocked: set[str],
        *,
        quiet: bool = False,
    ) -> Any:
        """Second layer: drop list items holding an out-of-scope namespace or a blocked value. Only
        reached when something is to be dropped (the one-pass walk declined, or a value is blocked)."""
        counts = [0, 0]
        try:
            result, _, _ = walk(result, ctx.scope, blocked, counts, in_list=False)
        except OutOfScope:
            raise _FilteredOut("the result contained data outside your scope and was withheld") from None
        out_of_scope, n_blocked = counts
        if (out_of_scope or n_blocked) and isinstance(result, dict):
            # Tell the model something was held back, so it does not claim "nothing there".
            result[WITHHELD_KEY] = _withheld_note(out_of_scope, n_blocked)
        if out_of_scope and not quiet:
            # The tool's own enforcement failed: a graph drawn from that data may show it too.
            ctx.artifacts.clear()
            self._metrics.scope_denials.labels(name).inc(out_of_scope)
            self._metrics.scope_violations.labels(name, RESULT_FILTER).inc()
            await self._security(name, ctx, namespace, "filtered_out_of_scope", args)
        return result

    async def _error(self, name: str, message: str, ctx: ToolContext, namespace: str | None) -> str:
        """Error text is sanitized too: backend messages can echo label values."""
        cleaned = sanitize.clean_label(message, MAX_ERROR_CHARS)
        if cleaned.injection:
            await self._security(name, ctx, namespace, "prompt_injection", None)
            self._metrics.injection_detections.labels(name).inc()
        return sanitize.wrap(name, {"error": cleaned.text}, error=True)

    async def _scope_denied(self, name: str, exc: ScopeDenied, ctx: ToolContext, args: JSON) -> None:
        self._metrics.scope_denials.labels(name).inc()
        reason = "filtered_out_of_scope" if isinstance(exc, _FilteredOut) else "out_of_scope"
        if isinstance(exc, _FilteredOut):  # the backend answered with data outside the scope: paged
            self._metrics.scope_violations.labels(name, RESULT_FILTER).inc()
        await self._security(name, ctx, exc.namespace, reason, args)

    async def _injection(
        self, name: str, ctx: ToolContext, namespace: str | None, values: list[str], args: JSON
    ) -> None:
        self._metrics.injection_detections.labels(name).inc(len(values))
        await self._blocklist.block(values)
        await self._security(name, ctx, namespace, "prompt_injection", args)

    async def _security(
        self, name: str, ctx: ToolContext, namespace: str | None, reason: str, args: JSON | None
    ) -> None:
        """One `security` row: tool, namespace and reason — never the offending content."""
        call: dict[str, Any] = {"tool": name}
        if args is not None:
            call["inputs_hash"] = canonical_hash(args)
        await self._audit.write(
            AuditEvent(
                event_type="security",
                user_id=ctx.scope.user_id,
                session_id=ctx.session_id,
                namespace=namespace,
                failure_reason=reason,
                tool_calls=[call],
            )
        )


def _withheld_note(out_of_scope: int, blocked: int) -> str:
    parts = []
    if out_of_scope:
        parts.append(f"{out_of_scope} item(s) outside your scope")
    if blocked:
        parts.append(f"{blocked} item(s) with a label blocked after a prompt-injection detection")
    return "withheld: " + "; ".join(parts)


def _requested_namespace(tool: Tool, args: Any) -> str | None:
    if not tool.namespace_arg or not isinstance(args, dict):
        return None
    ns = args.get(tool.namespace_arg)
    return ns if isinstance(ns, str) else None


def _audit_fields(keys: frozenset[str], values: JSON) -> dict[str, Any]:
    """The fields a tool declares safe to keep in the audit log (e.g. the PromQL strings)."""
    return {k: values[k] for k in sorted(keys) if k in values}


def _validate(validator: Validator, value: Any, prefix: str, *, echo: bool = False) -> None:
    """Raise SchemaInvalid naming the field. Only input errors echo the (model's own) value;
    an output error names path and rule only, since the value may be out-of-scope data."""
    error = validator.first_error(value)
    if error is None:
        return
    if echo:
        detail = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    else:
        detail = f"violates '{error.rule}'"
    raise SchemaInvalid(f"{prefix}: {error.path}: {detail}")


def _too_large(name: str, args: JSON, size: int, limit: int) -> str:
    shown = json.dumps(args, sort_keys=True, default=str)
    shown = shown if len(shown) <= 500 else shown[:500] + "…"
    return (
        f"The result of {name} {shown} is {size} characters, over the {limit}-character limit. "
        "Narrow the query: filter by namespace or label selector, aggregate (sum by, topk), "
        "shorten the time range or raise the step, or ask for fewer lines."
    )
