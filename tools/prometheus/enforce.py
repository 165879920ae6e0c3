"""PromQL namespace enforcement: the only way a query string reaches Prometheus.

Same approach as prom-label-proxy, plus a verification pass:
1. parse with promql-parser (syntax errors → `UnsafeQuery` naming the query);
2. print the AST with our own printer, adding `namespace=~"a|b"` (values RE2-escaped) to every
   vector and matrix selector; an existing `namespace="x"` outside the scope is refused
   (`ScopeDenied`), any other existing namespace matcher is kept — Prometheus ANDs matchers
   on the same label, so the result is the intersection;
3. re-parse the printed string and verify: it prints back identically (fixpoint), it has the
   same number of selectors, and every selector carries the enforced matcher. Otherwise the
   query is refused. Unknown node types and `or_matchers` are refused (fail closed).

`namespaces=None` (admin, unscoped) still parses and re-prints the query, without a matcher.
Series with no namespace label cannot match `namespace=~"a|b"` (the empty value never matches
a non-empty alternation, and Prometheus anchors regexes), so node-level metrics stay admin-only —
which is why every allowed namespace must be a valid, non-empty Kubernetes name (`""` would add
an empty alternative and admit exactly those series).

A namespace matcher of the query (`=`, `=~`, `!=`, `!~`) that no namespace in scope satisfies
is refused with `ScopeDenied` rather than sent: the intersection would be silently empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import promql_parser as pp

from kernel.errors import ScopeDenied, UnsafeQuery
from tools.prometheus import messages
from tools.prometheus.matchers import first_unsatisfiable
from tools.prometheus.printer import Matcher, Printer, selector_matchers

NAMESPACE_LABEL = "namespace"
_RE2_META = frozenset("\\.+*?()|[]{}^$")
# A DNS-1123 subdomain (Kubernetes names; namespaces are the stricter label form, but dots are
# accepted so the escaping below stays exercised). Anything else in a scope is a bug upstream.
_VALID_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?\Z")
MAX_NAMESPACE_CHARS = 253


def regex_escape(value: str) -> str:
    """RE2 QuoteMeta: escape only regex metacharacters (RE2 rejects some of Python's escapes)."""
    return "".join("\\" + ch if ch in _RE2_META else ch for ch in value)


def namespace_regex(namespaces: Iterable[str]) -> str:
    return "|".join(regex_escape(ns) for ns in sorted(namespaces))


def parse(query: str) -> object:
    try:
        return pp.parse(query)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise UnsafeQuery(messages.PARSE_ERROR.format(error=str(exc)[:300], query=query)) from exc


def enforce(query: str, namespaces: frozenset[str] | None) -> str:
    """The PromQL string to send for `query` under `namespaces` (None = unrestricted)."""
    expr = parse(query)
    if namespaces is None:
        return _verified(Printer().print(expr), expr, None)
    if not namespaces:
        raise ScopeDenied(messages.NO_NAMESPACES)
    _check_allowed(namespaces)
    enforced: Matcher = ("=~", NAMESPACE_LABEL, namespace_regex(namespaces))
    scope_text = ", ".join(sorted(namespaces))

    def restrict(matchers: list[Matcher]) -> list[Matcher]:
        for op, name, value in matchers:
            if name == NAMESPACE_LABEL and op == "=" and value not in namespaces:
                # An equality outside the scope would make the selector empty; say so plainly
                # rather than silently returning nothing.
                raise ScopeDenied(
                    messages.NAMESPACE_OUT_OF_SCOPE.format(namespace=value, scope=scope_text),
                    namespace=value or None,
                )
        ns_matchers = [(op, value) for op, name, value in matchers if name == NAMESPACE_LABEL]
        empty = first_unsatisfiable(ns_matchers, namespaces)
        if empty is not None:
            op, value = empty
            raise ScopeDenied(
                messages.NAMESPACE_MATCHER_EMPTY.format(
                    matcher=f"{NAMESPACE_LABEL}{op}{value!r}", scope=scope_text
                ),
                namespace=value if op == "=~" and value and _RE2_META.isdisjoint(value) else None,
            )
        return [*matchers, enforced]

    return _verified(Printer(restrict).print(expr), expr, enforced)


def _check_allowed(namespaces: frozenset[str]) -> None:
    """Fail closed on a malformed scope instead of building a matcher from it."""
    for ns in namespaces:
        if not isinstance(ns, str) or len(ns) > MAX_NAMESPACE_CHARS or not _VALID_NAMESPACE.match(ns):
            raise ScopeDenied(messages.INVALID_SCOPE_NAMESPACE.format(namespace=str(ns)[:80]))


def selectors(expr: object) -> list[pp.VectorSelector]:
    """Every vector selector in the tree (those inside matrix selectors too), in print order.

    Our own walk rather than the library's `walk()`: the verification must not depend on the
    library visiting every child, and an unknown node type fails closed here as well."""
    found: list[pp.VectorSelector] = []
    stack: list[object] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, pp.VectorSelector):
            found.append(node)
        elif isinstance(node, pp.MatrixSelector):
            found.append(node.vector_selector)
        elif isinstance(node, pp.Call):
            stack.extend(reversed(list(node.args)))
        elif isinstance(node, pp.AggregateExpr):
            stack.append(node.expr)
            if node.param is not None:
                stack.append(node.param)
        elif isinstance(node, pp.BinaryExpr):
            stack.extend([node.rhs, node.lhs])
        elif isinstance(node, pp.SubqueryExpr | pp.ParenExpr | pp.UnaryExpr):
            stack.append(node.expr)
        elif not isinstance(node, pp.NumberLiteral | pp.StringLiteral):
            raise UnsafeQuery(messages.UNSUPPORTED_NODE.format(node=type(node).__name__))
    return found


def _verified(sent: str, original: object, enforced: Matcher | None) -> str:
    """Re-parse what we built and prove it is what we meant; refuse otherwise."""
    try:
        reparsed = pp.parse(sent)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise UnsafeQuery(messages.VERIFY_FAILED) from exc
    if Printer().print(reparsed) != sent:
        raise UnsafeQuery(messages.VERIFY_FAILED)
    sent_selectors = selectors(reparsed)
    if len(sent_selectors) != len(selectors(original)):
        raise UnsafeQuery(messages.VERIFY_FAILED)
    if enforced is not None:
        for vs in sent_selectors:
            if enforced not in selector_matchers(vs):
                raise UnsafeQuery(messages.VERIFY_FAILED)
    return sent
