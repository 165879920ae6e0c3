"""The fast validators (generated code, fastjsonschema for the rest; draft-07) against the
reference (jsonschema).

Every real tool's schemas stay within draft-07, and on documents generated from those schemas —
valid ones, near-valid ones (one value, key or length off) and arbitrary JSON — the fast
validator accepts and rejects exactly what jsonschema does.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

import tools.registry  # noqa: F401  (imports every tool module, so every Tool subclass exists)
from tools.base import Tool
from tools.schema import (
    DRAFT_07,
    NEWER_DRAFT_KEYWORDS,
    check_draft07,
    compile_schema,
    newer_keywords,
)

CONTRACT_TOOLS = {
    "prometheus_query", "prometheus_range_query", "prometheus_alerts", "k8s_list", "k8s_get",
    "k8s_events", "k8s_pod_logs", "runbook_search", "analyze",
}  # fmt: skip


def _real_tools() -> dict[str, type[Tool]]:
    found: dict[str, type[Tool]] = {}
    stack: list[type[Tool]] = [Tool]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("tools.") and "name" in vars(cls) and "output_schema" in dir(cls):
            found[cls.name] = cls
    return found


TOOLS = _real_tools()
SCHEMAS = [
    pytest.param(getattr(cls, which), id=f"{name}.{which}")
    for name, cls in sorted(TOOLS.items())
    for which in ("input_schema", "output_schema")
]


def test_every_contract_tool_is_covered() -> None:
    assert CONTRACT_TOOLS <= set(TOOLS)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_tool_schemas_use_draft_07_only(schema: dict[str, Any]) -> None:
    assert list(newer_keywords(schema)) == []
    check_draft07(schema)  # raises on a newer keyword, another draft or an invalid schema


@pytest.mark.parametrize("keyword", sorted(NEWER_DRAFT_KEYWORDS))
def test_newer_keywords_are_refused_anywhere(keyword: str) -> None:
    nested = {"type": "object", "properties": {"x": {"type": "array", "items": {keyword: {}}}}}
    with pytest.raises(ValueError, match=keyword.replace("$", r"\$")):
        check_draft07(nested)


def test_property_names_and_enum_values_are_data_not_keywords() -> None:
    check_draft07({"type": "object", "properties": {"prefixItems": {"enum": ["$defs"]}}})


def test_other_drafts_and_remote_refs_are_refused() -> None:
    with pytest.raises(ValueError, match="draft-07"):
        check_draft07({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"})
    with pytest.raises(ValueError, match="other documents"):
        check_draft07({"$ref": "http://127.0.0.1:1/evil.json"})
    check_draft07({"$schema": DRAFT_07, "type": "object"})


def test_validation_never_fills_in_defaults() -> None:
    logs = TOOLS["k8s_pod_logs"].input_schema
    args = {"namespace": "shop", "pod": "checkout-1"}
    assert compile_schema(logs).first_error(args) is None
    assert args == {"namespace": "shop", "pod": "checkout-1"}


# --- generated documents -------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False), st.just(1.0), st.just(-0.0), st.text(max_size=8),
)  # fmt: skip
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    near = [n for n in (lo - 1, lo, lo + 1, hi, (hi or 0) + 1) if n is not None and n >= 0]
    sized = st.sampled_from(near).map(lambda n: "a" * n)
    if "pattern" in schema:
        matching = st.from_regex(schema["pattern"])
        return st.one_of(matching, sized, st.text(max_size=12), st.just("a/b"), st.just("x\n"))
    return st.one_of(st.text(max_size=(hi + 2) if hi is not None and hi < 20 else 20), sized)


def _number(schema: dict[str, Any], integer: bool) -> st.SearchStrategy[Any]:
    bounds = [
        schema[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in schema
    ]
    edges = [b + d for b in bounds for d in (-1, 0, 1)] + [b + 0.5 for b in bounds]
    base: st.SearchStrategy[Any] = st.integers(-1000, 1000)
    if not integer:
        base = base | st.floats(allow_nan=False, allow_infinity=False, width=32)
    extras = st.sampled_from(edges) if edges else st.nothing()
    return st.one_of(base, extras, st.just(3.0), st.just(2.5), st.booleans())


def _for_type(schema: dict[str, Any], kind: str, depth: int) -> st.SearchStrategy[Any]:
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return st.booleans() | st.sampled_from([0, 1])
    if kind == "null":
        return st.none()
    if kind == "array":
        return _array(schema, depth)
    if kind == "object":
        return _object(schema, depth)
    return ANY_JSON


def _array(schema: dict[str, Any], depth: int) -> st.SearchStrategy[list[Any]]:
    item = near_valid(schema.get("items", {}), depth + 1)
    lists = st.lists(item, max_size=3)
    cap = schema.get("maxItems")
    if cap is None:
        return lists
    # at and just over maxItems: repeat one generated item
    over = st.tuples(item, st.sampled_from([cap, cap + 1])).map(lambda t: [t[0]] * t[1])
    return lists | over


def _object(schema: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    props: dict[str, Any] = schema.get("properties", {})
    required = [k for k in schema.get("required", []) if k in props]
    optional = [k for k in props if k not in required]
    extra = schema.get("additionalProperties", True)
    extra_values = near_valid(extra, depth + 1) if isinstance(extra, dict) else ANY_JSON

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        keys = [k for k in required if draw(st.integers(0, 15)) > 0]  # now and then one goes missing
        keys += draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []
        doc = {k: draw(near_valid(props[k], depth + 1)) for k in keys}
        for k in draw(st.lists(st.sampled_from(["zz", "extra", "namespace", "__proto__"]), max_size=1)):
            doc.setdefault(k, draw(extra_values))
        return doc

    return build()


def near_valid(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Documents shaped by `schema`: mostly valid, with wrong types, lengths, bounds, missing
    or unknown keys mixed in at every level; past a depth, anything."""
    if not isinstance(schema, dict) or depth > 6:
        return ANY_JSON
    options: list[st.SearchStrategy[Any]] = []
    if "const" in schema:
        options += [st.just(schema["const"]), st.just(str(schema["const"]) + "x")]
    if "enum" in schema:
        options += [st.sampled_from(schema["enum"]), st.just("not-in-enum")]
    if "anyOf" in schema:
        options += [near_valid(sub, depth + 1) for sub in schema["anyOf"]]
    kinds = schema.get("type", [])
    for kind in [kinds] if isinstance(kinds, str) else kinds:
        options.append(_for_type(schema, kind, depth))
    if not options:
        options.append(ANY_JSON)
    return st.one_of(*options, SCALARS) if depth else st.one_of(*options)


def _valid_number(schema: dict[str, Any], integer: bool) -> st.SearchStrategy[Any]:
    lo = schema.get("minimum", schema.get("exclusiveMinimum", -(10**6)))
    hi = schema.get("maximum", 10**6)
    if integer:
        return st.integers(int(lo) + ("exclusiveMinimum" in schema), int(hi))
    return st.floats(lo, hi, exclude_min="exclusiveMinimum" in schema, allow_nan=False)


_VALID: dict[tuple[int, int], st.SearchStrategy[Any]] = {}


def valid(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Documents `schema` accepts (built once per subschema: the Kubernetes ones are large)."""
    key = (id(schema), min(depth, 2))
    if key not in _VALID:
        _VALID[key] = _valid(schema, depth)
    return _VALID[key]


def _valid(schema: Any, depth: int) -> st.SearchStrategy[Any]:
    if not isinstance(schema, dict):
        return ANY_JSON
    if not schema.get("type") and not schema.keys() & {"const", "enum", "anyOf"}:
        return ANY_JSON
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([valid(sub, depth + 1) for sub in schema["anyOf"]])
    kinds = schema["type"]
    return st.one_of([_valid_type(schema, k, depth) for k in ([kinds] if isinstance(kinds, str) else kinds)])


def _valid_type(schema: dict[str, Any], kind: str, depth: int) -> st.SearchStrategy[Any]:
    if kind == "string":
        ref = Draft7Validator(schema)
        base = st.from_regex(schema["pattern"]) if "pattern" in schema else st.text(max_size=12)
        return base.filter(ref.is_valid) | st.just("a" * schema.get("minLength", 0)).filter(ref.is_valid)
    if kind in ("integer", "number"):
        return _valid_number(schema, kind == "integer")
    if kind == "array":
        cap = schema.get("maxItems", 3)
        return st.lists(valid(schema.get("items", {}), depth + 1), max_size=min(cap, 3 if depth < 2 else 1))
    if kind == "object":
        props = schema.get("properties", {})
        required = {k: valid(props.get(k, {}), depth + 1) for k in schema.get("required", [])}
        optional = {k: valid(v, depth + 1) for k, v in props.items() if k not in required}
        extra = schema.get("additionalProperties", True)
        fixed = st.fixed_dictionaries(required, optional=optional)
        if extra is False:
            return fixed
        more = st.dictionaries(
            st.text(max_size=5).filter(lambda k: k not in props),
            valid(extra, depth + 1) if isinstance(extra, dict) else ANY_JSON,
            max_size=2,
        )
        return st.tuples(fixed, more).map(lambda t: {**t[1], **t[0]})
    return {"boolean": st.booleans(), "null": st.none()}.get(kind, ANY_JSON)


@st.composite
def mutated(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A valid document with exactly one change somewhere: a value replaced, a key dropped
    or added, an array item added."""
    box = {"root": draw(valid(schema))}
    holder: Any = box
    key: Any = "root"
    while isinstance(holder[key], dict | list) and holder[key] and draw(st.booleans()):
        child = holder[key]
        keys = list(child) if isinstance(child, dict) else list(range(len(child)))
        holder, key = child, draw(st.sampled_from(keys))
    target = holder[key]
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "drop" and isinstance(target, dict) and target:
        del target[draw(st.sampled_from(sorted(target)))]
    elif action == "add" and isinstance(target, dict):
        target[draw(st.sampled_from(["zz", "namespace", "kind", "value"]))] = draw(ANY_JSON)
    elif action == "add" and isinstance(target, list):
        target.append(draw(ANY_JSON))
    else:
        holder[key] = draw(ANY_JSON)
    return box["root"]


def documents(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.one_of(valid(schema), mutated(schema), near_valid(schema))


def _same_verdict(schema: dict[str, Any], doc: Any) -> None:
    reference = Draft7Validator(schema).is_valid(doc)
    fast = compile_schema(schema).first_error(doc) is None
    assert fast == reference, doc


@pytest.mark.parametrize("schema", SCHEMAS)
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fast_validator_agrees_with_jsonschema(schema: dict[str, Any], data: st.DataObject) -> None:
    _same_verdict(schema, data.draw(documents(schema)))


@pytest.mark.parametrize("schema", SCHEMAS)
@settings(max_examples=30, deadline=None)
@given(doc=ANY_JSON)
def test_fast_validator_agrees_on_arbitrary_json(schema: dict[str, Any], doc: Any) -> None:
    _same_verdict(schema, doc)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_documents_are_both_valid_and_invalid(schema: dict[str, Any]) -> None:
    """The generators reach both sides of every schema, so agreement means something."""
    from hypothesis import find

    ref = Draft7Validator(schema)
    opts = settings(max_examples=300, database=None, suppress_health_check=list(HealthCheck))
    find(mutated(schema), lambda d: not ref.is_valid(d), settings=opts)
    find(valid(schema), lambda d: d not in ({}, []), settings=opts)


@pytest.mark.parametrize("schema", SCHEMAS)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_valid_generator_is_valid(schema: dict[str, Any], data: st.DataObject) -> None:
    assert Draft7Validator(schema).is_valid(data.draw(valid(schema)))


def test_rejections_name_the_path_and_rule() -> None:
    query = TOOLS["prometheus_query"].output_schema
    stats = {"min": 1, "max": 1, "avg": 1, "last": 1}
    series = [{"labels": {"job": 3}, "stats": stats}]
    doc = {
        "query_sent": "up",
        "result_type": "vector",
        "series_total": 1,
        "truncated": False,
        "series": series,
    }
    error = compile_schema(query).first_error(doc)
    assert error is not None and error.path == "$.series[0].labels.job" and error.rule == "type"


def test_dollar_anchors_are_refused_since_the_dialects_disagree_on_them() -> None:
    """Python's `$` matches before a final newline (jsonschema accepts "shop\\n"), ECMA-262's
    does not (fastjsonschema refuses it); our patterns end with (?![\\s\\S]) instead."""
    with pytest.raises(ValueError, match="pattern uses"):
        check_draft07({"type": "string", "pattern": "^[a-z]+$"})
    check_draft07({"type": "string", "pattern": r"^[a-z]+\$"})
    namespace = TOOLS["k8s_events"].input_schema
    for bad in ({"namespace": "shop\n"}, {"namespace": "shop/x"}):
        assert compile_schema(namespace).first_error(bad) is not None
        assert not Draft7Validator(namespace).is_valid(bad)


def test_refs_and_patterns_are_found_under_any_property_name() -> None:
    """Property names are data: a remote `$ref` or a `$` pattern below a property called like an
    annotation (`title`, `description`) is refused like any other."""
    with pytest.raises(ValueError, match="other documents"):
        check_draft07({"properties": {"title": {"$ref": "http://127.0.0.1:1/evil.json"}}})
    with pytest.raises(ValueError, match="pattern uses"):
        check_draft07({"properties": {"description": {"type": "string", "pattern": "^a$"}}})


@pytest.mark.parametrize(
    ("schema", "message"),
    [({"type": "number", "multipleOf": 0.01}, "multipleOf"),
     ({"properties": {"n": {"multipleOf": 3}}}, "multipleOf"),
     ({"maximum": float("inf")}, "non-finite"), ({"enum": ["a", float("nan")]}, "non-finite")],
)  # fmt: skip
def test_schemas_the_validators_would_disagree_on_are_refused(schema: dict[str, Any], message: str) -> None:
    """fastjsonschema accepts 0.07 as a multiple of 0.01 (jsonschema does not), and its code for an
    infinite or NaN bound or value raises NameError when run: a tool schema with either is refused."""
    with pytest.raises(ValueError, match=message):
        check_draft07(schema)

