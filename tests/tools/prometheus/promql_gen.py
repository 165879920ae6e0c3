"""A hypothesis generator of PromQL over the fixture's metrics: nested functions, aggregations
with by/without, binary ops with on/ignoring/group_left and bool, subqueries, offset, @, regex and
negative matchers, existing namespace matchers (some conflicting with the scope), label_replace,
absent, number literals, and hostile label values (quotes, backslashes, braces, newlines)."""

from __future__ import annotations

from hypothesis import strategies as st

from tools.prometheus.printer import quote

METRICS = [
    "up", "http_requests_total", "container_memory_working_set_bytes", "node_load1", "many_series",
    "app_info", "no_such_metric",
]
LABELS = ["namespace", "pod", "job", "instance", "container", "idx"]
NAMESPACE_VALUES = ["team-a", "team-b", "kube-system", "a.b", "axb", ""]

hostile_text = st.text(alphabet='abc-."\\{}[](),=~!|*+ \n`\'', max_size=12)
plain_value = st.sampled_from(["web", "web-1", "api-1", "coredns-1", "node-1", "main", "00", "29"])


@st.composite
def matcher(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["ns_eq", "ns_re", "ns_ne", "ns_nre", "label", "label_re", "hostile"]))
    if kind == "ns_eq":
        return f"namespace={quote(draw(st.sampled_from(NAMESPACE_VALUES)))}"
    if kind == "ns_re":
        return f"namespace=~{quote(draw(st.sampled_from(['team-.*', 'a.b', '.*', 'kube-system|team-a'])))}"
    if kind == "ns_ne":
        return f"namespace!={quote(draw(st.sampled_from(NAMESPACE_VALUES)))}"
    if kind == "ns_nre":
        return f"namespace!~{quote(draw(st.sampled_from(['kube.*', 'team-a', '.+'])))}"
    label = draw(st.sampled_from(LABELS[1:]))
    if kind == "label":
        return f"{label}{draw(st.sampled_from(['=', '!=']))}{quote(draw(plain_value))}"
    if kind == "label_re":
        regex = draw(st.sampled_from(["web-.*", ".+", ".*"]))
        return f"{label}{draw(st.sampled_from(['=~', '!~']))}{quote(regex)}"
    return f"{label}={quote(draw(hostile_text))}"


@st.composite
def modifiers(draw: st.DrawFn) -> str:
    out = ""
    if draw(st.booleans()):
        out += f" offset {draw(st.sampled_from(['1m', '5m', '30s', '1h', '-1m']))}"
    if draw(st.integers(0, 4)) == 0:
        out += f" @ {draw(st.sampled_from(['start()', 'end()']))}"
    return out


@st.composite
def selector(draw: st.DrawFn) -> str:
    metric = draw(st.sampled_from(METRICS))
    ms = draw(st.lists(matcher(), max_size=3))
    if draw(st.integers(0, 5)) == 0:
        ms = [f"__name__={quote(metric)}", *ms]
        return "{" + ",".join(ms) + "}"
    braces: bool = draw(st.booleans())
    return metric + ("{" + ",".join(ms) + "}" if ms or braces else "")


@st.composite
def range_selector(draw: st.DrawFn) -> str:
    return f"{draw(selector())}[{draw(st.sampled_from(['1m', '5m', '10m']))}]{draw(modifiers())}"


def _grouping(draw: st.DrawFn) -> str:
    labels = draw(st.lists(st.sampled_from(LABELS), max_size=2, unique=True))
    kind = draw(st.sampled_from(["", "by", "without"]))
    return f" {kind} ({', '.join(labels)}) " if kind else ""


def expr(depth: int = 3, *, with_absent: bool = True) -> st.SearchStrategy[str]:
    """`with_absent=False` for result oracles: absent() echoes the selector's equality labels."""
    leaves = [
        selector().flatmap(lambda s: modifiers().map(lambda m: s + m)),
        st.builds(lambda f, r: f"{f}({r})",
                  st.sampled_from(["rate", "increase", "max_over_time", "avg_over_time", "delta"]),
                  range_selector()),
        st.sampled_from(["1", "0.5", "-2", "1e3", "vector(1)", "time()"]),
    ]
    if with_absent:
        leaves.append(selector().map(lambda s: f"absent({s})"))
    leaf = st.one_of(*leaves)
    if depth == 0:
        return leaf
    sub = expr(depth - 1, with_absent=with_absent)

    @st.composite
    def compound(draw: st.DrawFn) -> str:
        kind = draw(st.sampled_from(
            ["agg", "param_agg", "binary", "set", "func", "label_replace", "subquery", "paren", "unary"]
        ))
        inner = draw(sub)
        if kind == "agg":
            op = draw(st.sampled_from(["sum", "avg", "max", "min", "count", "group", "stddev"]))
            return f"{op}{_grouping(draw)}({inner})"
        if kind == "param_agg":
            op, param = draw(st.sampled_from(
                [("topk", "2"), ("bottomk", "1"), ("quantile", "0.5"), ("count_values", '"v"')]
            ))
            return f"{op}{_grouping(draw)}({param}, {inner})"
        if kind == "binary":
            op = draw(st.sampled_from(["+", "-", "*", "/", ">", "==", "<="]))
            boolean = " bool" if op in (">", "==", "<=") and draw(st.booleans()) else ""
            match = draw(st.sampled_from(["", " on(pod)", " ignoring(job)", " on(namespace) group_left()",
                                          " ignoring(pod) group_left(job)"]))
            return f"{inner} {op}{boolean}{match} {draw(sub)}"
        if kind == "set":
            op = draw(st.sampled_from(["and", "or", "unless"]))
            match = draw(st.sampled_from(["", " on(namespace)", " ignoring(pod)"]))
            return f"{inner} {op}{match} {draw(sub)}"
        if kind == "func":
            f = draw(st.sampled_from(["abs({})", "clamp_min({}, 0)", "sort_desc({})", "ceil({})"]))
            return f.format(inner)
        if kind == "label_replace":
            dst = draw(st.sampled_from(["dst", "pod"]))
            return f'label_replace({inner}, "{dst}", "$1", "pod", "(.*)")'
        if kind == "subquery":
            fn = draw(st.sampled_from(["max_over_time", "avg_over_time", "min_over_time"]))
            return f"{fn}(({inner})[10m:1m])"
        if kind == "paren":
            return f"({inner})"
        return f"-{inner}"

    return st.one_of(leaf, compound())
