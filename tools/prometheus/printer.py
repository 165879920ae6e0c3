"""Our own PromQL printer: AST (promql-parser) → query string, with correct escaping.

Why not the library's `str()`/`prettify()`: it does not escape label values, so a value such
as `x",namespace="a` prints back as extra matchers (BRIEF §4), and in-place matcher edits are
lost. Every string we send to Prometheus is built here. The printer covers every node type
promql-parser produces; anything else raises `UnsafeQuery` (fail closed).

Selectors are printed through a `rewrite` callback so the enforcer can add/keep matchers
without touching the AST (which the library copies on access).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import promql_parser as pp

from kernel.errors import UnsafeQuery
from tools.prometheus import messages

Matcher = tuple[str, str, str]
"""(op, label name, value) with op one of `=`, `!=`, `=~`, `!~`."""

Rewrite = Callable[[list[Matcher]], list[Matcher]]
"""Receives a selector's matchers (metric name as `__name__="…"`), returns the ones to print."""

# The library's enums are not hashable: look them up by equality.
_MATCH_OPS = (
    (pp.MatchOp.Equal, "="), (pp.MatchOp.NotEqual, "!="), (pp.MatchOp.Re, "=~"), (pp.MatchOp.NotRe, "!~")
)
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_FUNC_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
_BINARY_OPS = frozenset(
    {"+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless", "atan2"}
)
_SET_OPS = frozenset({"and", "or", "unless"})
_AGGREGATIONS = frozenset(
    {"sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk",
     "count_values", "quantile", "limitk", "limit_ratio"}
)
# A metric name that is also a PromQL keyword would re-lex as the keyword: print those via __name__.
_KEYWORDS = frozenset(
    {"and", "or", "unless", "atan2", "bool", "by", "without", "on", "ignoring", "group_left",
     "group_right", "offset", "start", "end", "inf", "nan"} | _AGGREGATIONS
)
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _lookup(pairs: tuple[tuple[object, str], ...], key: object) -> str | None:
    return next((text for k, text in pairs if k == key), None)


def quote(value: str) -> str:
    """A double-quoted PromQL string literal that lexes back to exactly `value`."""
    out = []
    for ch in value:
        if ch in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            raise UnsafeQuery(messages.BAD_STRING)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def label_name(name: str) -> str:
    if not _LABEL_NAME.match(name):
        raise UnsafeQuery(messages.BAD_LABEL_NAME.format(name=name[:80]))
    return name


def duration(delta: timedelta) -> str:
    """Prometheus duration syntax (h/m/s/ms units, compound), sign included for offsets."""
    total_ms = round(delta / timedelta(milliseconds=1))
    sign = "-" if total_ms < 0 else ""
    rest = abs(total_ms)
    if rest == 0:
        return "0s"
    parts = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n}{unit}")
    return sign + "".join(parts)


def number(val: float) -> str:
    if math.isnan(val):
        return "NaN"
    if math.isinf(val):
        return "Inf" if val > 0 else "-Inf"
    if float(val).is_integer() and abs(val) < 1e15:
        return str(int(val))
    return repr(float(val))


def _at(at: pp.AtModifier | None) -> str:
    if at is None:
        return ""
    if at.type == pp.AtModifierType.Start:
        return " @ start()"
    if at.type == pp.AtModifierType.End:
        return " @ end()"
    if at.type == pp.AtModifierType.At and isinstance(at.at, datetime):
        return f" @ {at.at.timestamp():.3f}"
    raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node="@ modifier"))


def _offset(offset: timedelta | None) -> str:
    return "" if offset is None else f" offset {duration(offset)}"


def selector_matchers(vs: pp.VectorSelector) -> list[Matcher]:
    """All matchers of a selector, the metric name as `__name__="…"`; or_matchers refused."""
    if vs.matchers.or_matchers:
        raise UnsafeQuery(messages.OR_MATCHERS)
    out: list[Matcher] = []
    if vs.name is not None:
        out.append(("=", "__name__", vs.name))
    for m in vs.matchers.matchers:
        op = _lookup(_MATCH_OPS, m.op)
        if op is None:
            raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node="matcher operator"))
        out.append((op, label_name(m.name), m.value))
    return out


def _print_selector_body(matchers: list[Matcher]) -> str:
    name = ""
    rest = list(matchers)
    for i, (op, lname, value) in enumerate(rest):
        if op == "=" and lname == "__name__":
            if _METRIC_NAME.match(value) and value.lower() not in _KEYWORDS:
                name = value
                del rest[i]
            break
    body = ",".join(f"{label_name(n)}{op}{quote(v)}" for op, n, v in rest)
    return name if name and not body else f"{name}{{{body}}}"


class Printer:
    """Prints a parsed expression; `rewrite` sees (and may change) every selector's matchers."""

    def __init__(self, rewrite: Rewrite | None = None) -> None:
        self._rewrite: Rewrite = rewrite or (lambda ms: ms)

    def print(self, expr: object) -> str:
        handler = _DISPATCH.get(type(expr))
        if handler is None:
            raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node=type(expr).__name__))
        return handler(self, expr)

    def _vector(self, vs: pp.VectorSelector) -> str:
        body = _print_selector_body(self._rewrite(selector_matchers(vs)))
        return body + _offset(vs.offset) + _at(vs.at)

    def _matrix(self, ms: pp.MatrixSelector) -> str:
        vs = ms.vector_selector
        body = _print_selector_body(self._rewrite(selector_matchers(vs)))
        return f"{body}[{duration(ms.range)}]" + _offset(vs.offset) + _at(vs.at)

    def _call(self, call: pp.Call) -> str:
        name = call.func.name
        if not _FUNC_NAME.match(name):
            raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node=f"function {name[:40]}"))
        return f"{name}(" + ", ".join(self.print(a) for a in call.args) + ")"

    def _aggregate(self, agg: pp.AggregateExpr) -> str:
        op = str(agg.op)
        if op not in _AGGREGATIONS:
            raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node=f"aggregation {op[:40]}"))
        grouping = ""
        if agg.modifier is not None:
            kind = _lookup(((pp.AggModifierType.By, "by"), (pp.AggModifierType.Without, "without")),
                           agg.modifier.type)
            if kind is None:
                raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node="aggregation modifier"))
            grouping = f" {kind} (" + ", ".join(label_name(n) for n in agg.modifier.labels) + ") "
        args = ([self.print(agg.param)] if agg.param is not None else []) + [self.print(agg.expr)]
        return f"{op}{grouping}(" + ", ".join(args) + ")"

    def _binary(self, b: pp.BinaryExpr) -> str:
        op = str(b.op)
        if op not in _BINARY_OPS:
            raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node=f"operator {op[:40]}"))
        return f"{self.print(b.lhs)} {op}{_bin_modifier(b.modifier, op)} {self.print(b.rhs)}"

    def _subquery(self, s: pp.SubqueryExpr) -> str:
        if s.range is None:
            raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node="subquery without range"))
        step = "" if s.step is None else duration(s.step)
        return f"{self.print(s.expr)}[{duration(s.range)}:{step}]" + _offset(s.offset) + _at(s.at)

    def _paren(self, p: pp.ParenExpr) -> str:
        return f"({self.print(p.expr)})"

    def _unary(self, u: pp.UnaryExpr) -> str:
        return f"-{self.print(u.expr)}"

    def _number(self, n: pp.NumberLiteral) -> str:
        return number(n.val)

    def _string(self, s: pp.StringLiteral) -> str:
        return quote(s.val)


def _bin_modifier(mod: pp.BinModifier | None, op: str) -> str:
    if mod is None:
        return ""
    fill = mod.fill_values
    if fill is not None and (fill.lhs is not None or fill.rhs is not None):
        raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node="fill() modifier"))
    out = " bool" if mod.return_bool else ""
    if mod.matching is not None:
        kinds = ((pp.LabelModifierType.Include, "on"), (pp.LabelModifierType.Exclude, "ignoring"))
        kind = _lookup(kinds, mod.matching.type)
        if kind is None:
            raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node="vector matching"))
        out += f" {kind}(" + ", ".join(label_name(n) for n in mod.matching.labels) + ")"
    card = mod.card
    if card in (pp.VectorMatchCardinality.ManyToOne, pp.VectorMatchCardinality.OneToMany):
        if op in _SET_OPS:
            raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node="group modifier on a set operator"))
        side = "group_left" if card == pp.VectorMatchCardinality.ManyToOne else "group_right"
        out += f" {side}(" + ", ".join(label_name(n) for n in (mod.group_labels or [])) + ")"
    elif card not in (pp.VectorMatchCardinality.OneToOne, pp.VectorMatchCardinality.ManyToMany):
        raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node="vector matching cardinality"))
    return out


_DISPATCH: dict[type, Callable[[Printer, object], str]] = {
    pp.VectorSelector: Printer._vector,  # type: ignore[dict-item]
    pp.MatrixSelector: Printer._matrix,  # type: ignore[dict-item]
    pp.Call: Printer._call,  # type: ignore[dict-item]
    pp.AggregateExpr: Printer._aggregate,  # type: ignore[dict-item]
    pp.BinaryExpr: Printer._binary,  # type: ignore[dict-item]
    pp.SubqueryExpr: Printer._subquery,  # type: ignore[dict-item]
    pp.ParenExpr: Printer._paren,  # type: ignore[dict-item]
    pp.UnaryExpr: Printer._unary,  # type: ignore[dict-item]
    pp.NumberLiteral: Printer._number,  # type: ignore[dict-item]
    pp.StringLiteral: Printer._string,  # type: ignore[dict-item]
}
