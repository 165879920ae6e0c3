"""The generated validators against the reference (jsonschema, draft-07) on generated schemas:
every keyword the generator writes code for, in any combination and nesting, with the keywords
it hands to fastjsonschema mixed in, on documents shaped by the schema and on arbitrary JSON.
tests/tools/test_schema.py does the same on every real tool's schemas."""

from __future__ import annotations

from typing import Any

import pytest
from fastjsonschema import JsonSchemaDefinitionException
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from tests.tools.test_schema import ANY_JSON, SCALARS, TOOLS, near_valid
from tools.validator_gen import _BOUNDS, _Generator, _native, compile_check

TYPES = ["string", "integer", "number", "object", "array", "boolean", "null"]
NUMBERS = st.integers(-3, 3) | st.sampled_from([0.5, -1.5, 2.0])
SIZES = st.integers(0, 3)
KEYS = st.sampled_from(["a", "b", "namespace", "x y", "'q'", "__class__"])

LEAF_KEYWORDS = {
    "type": st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
    "minLength": SIZES, "maxLength": SIZES, "minItems": SIZES, "maxItems": SIZES,
    "minimum": NUMBERS, "maximum": NUMBERS, "exclusiveMinimum": NUMBERS, "exclusiveMaximum": NUMBERS,
    "description": st.just("annotation only"),
}  # fmt: skip
DELEGATED_KEYWORDS = {  # pattern is handed to fastjsonschema; enum and const with scalars are not
    "enum": st.lists(SCALARS, min_size=1, max_size=3),
    "const": SCALARS,
    "pattern": st.sampled_from(["^a", "b", "^[a-z]+(?![\\s\\S])"]),
}


def _leaf() -> st.SearchStrategy[Any]:
    plain = st.fixed_dictionaries({}, optional=LEAF_KEYWORDS)
    mixed = st.fixed_dictionaries({}, optional={**LEAF_KEYWORDS, **DELEGATED_KEYWORDS})
    return st.one_of(st.booleans(), st.just({}), plain, plain, plain, plain, mixed)


def _extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    props = st.dictionaries(KEYS, inner, max_size=3)
    nested = {
        "properties": props,
        "required": st.lists(KEYS, max_size=3, unique=True),
        "additionalProperties": inner,
        "items": inner,
        "type": LEAF_KEYWORDS["type"],
        "maxItems": SIZES,
    }
    written = st.fixed_dictionaries({}, optional=nested)
    delegated = st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=2)})
    return st.one_of(written, written, written, written, delegated)  # mostly the generator's own


SCHEMAS = st.recursive(_leaf(), _extend, max_leaves=8).filter(
    lambda s: Draft7Validator(Draft7Validator.META_SCHEMA).is_valid(s)
)


def docs_for(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Documents at the edges of every keyword of `schema` (each bound, one past it, the int and
    float forms, the bool lookalikes), objects built from its keys, and arbitrary JSON."""
    if not isinstance(schema, dict) or depth > 4:
        return ANY_JSON
    lookalikes = st.sampled_from([0, 1, 1.0, 2.5, -0.0, True, False, None])
    opts: list[st.SearchStrategy[Any]] = [ANY_JSON, lookalikes]
    for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if k in schema:
            n = schema[k]
            opts.append(st.sampled_from([n, n - 1, n + 1, n - 0.5, n + 0.5, float(n), int(n)]))
    for k in ("minLength", "maxLength"):
        if k in schema:
            sizes = st.sampled_from([schema[k] - 1, schema[k], schema[k] + 1]).filter(lambda m: m >= 0)
            opts.append(sizes.map("é".__mul__))
    item = docs_for(schema.get("items", {}), depth + 1)
    for k in ("minItems", "maxItems"):
        if k in schema:
            sizes = st.sampled_from([schema[k] - 1, schema[k], schema[k] + 1]).filter(lambda m: m >= 0)
            opts.append(st.tuples(item, sizes).map(lambda t: [t[0]] * t[1]))
    if "items" in schema:
        opts.append(st.lists(item, max_size=3))
    for sub in schema.get("anyOf", []):
        opts.append(docs_for(sub, depth + 1))
    if "enum" in schema:
        opts.append(st.sampled_from(schema["enum"]))
    if "const" in schema:
        opts.append(st.just(schema["const"]))
    props = schema.get("properties", {})
    keys = sorted({*props, *schema.get("required", []), "zz"})
    extra = schema.get("additionalProperties", {})
    values = {k: docs_for(props.get(k, extra), depth + 1) for k in keys}
    opts.append(st.lists(st.sampled_from(keys), unique=True).flatmap(
        lambda ks: st.fixed_dictionaries({k: values[k] for k in ks})))  # fmt: skip
    return st.one_of(opts)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), schema=SCHEMAS)
def test_generated_validators_agree_with_jsonschema(data: st.DataObject, schema: Any) -> None:
    try:
        check = compile_check(schema if isinstance(schema, dict) else {"allOf": [schema]})
    except JsonSchemaDefinitionException:  # a delegated part fastjsonschema refuses to compile
        reject()  # (e.g. `additionalProperties: {}` with `required`): a tool with it never loads
    reference = Draft7Validator(schema if isinstance(schema, dict) else {"allOf": [schema]})
    for doc in (data.draw(docs_for(schema)), data.draw(docs_for(schema)), data.draw(near_valid(schema))):
        assert check(doc) == reference.is_valid(doc), (schema, doc)


def test_tuples_are_arrays_as_in_fastjsonschema() -> None:
    """The one place we differ from jsonschema on purpose, as fastjsonschema did before us:
    a tool may build a tuple, and the walk after validation treats it as the list it stands for."""
    check = compile_check({"type": "array", "items": {"type": "integer"}, "maxItems": 2})
    assert check((1, 2)) and not check((1, "2")) and not check((1, 2, 3))


def test_common_shapes_are_written_as_code_not_delegated() -> None:
    """The speed comes from the generator's own code: a typical tool output schema uses no
    fastjsonschema function at all, and a pattern costs one, for that string only."""
    pods = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "maxLength": 253},
                        "restarts": {"type": "integer"},
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["items"],
    }
    gen = _Generator()
    gen.schema(pods, "d")
    assert not [h for h in gen.helpers if h.startswith("_f")]
    gen = _Generator()
    gen.schema({"type": "object", "properties": {"ns": {"type": "string", "pattern": "^a"}}}, "d")
    assert len([h for h in gen.helpers if h.startswith("_f")]) == 1


def test_refs_send_the_whole_schema_to_fastjsonschema() -> None:
    schema = {
        "definitions": {"pos": {"type": "integer", "minimum": 1}},
        "type": "object",
        "properties": {"n": {"$ref": "#/definitions/pos"}},
    }
    check = compile_check(schema)
    assert check({"n": 2}) and not check({"n": 0}) and not check({"n": "2"})


BOUND_DOCS = [0, 1, 2, 3, -1, 0.5, 1.5, 2.5, 1.0, 2.0, True, False, None, "1", "", "é", "éé", "ééé"]
BOUND_DOCS += [[], [1], [1, 1], [1, 1, 1]]


@pytest.mark.parametrize("kind", [None, "integer", "number", "string", "array", ["string", "integer"]])
@pytest.mark.parametrize("keyword", sorted(_BOUNDS))
@pytest.mark.parametrize("n", [0, 1, 2, 1.5])
def test_every_bound_at_its_edges(kind: Any, keyword: str, n: float) -> None:
    """Each bound, alone and under each type, on values at, just inside and just past it."""
    if keyword in ("minLength", "maxLength", "minItems", "maxItems") and isinstance(n, float):
        return  # lengths are integers (the meta-schema says so)
    schema: dict[str, Any] = {keyword: n} if kind is None else {keyword: n, "type": kind}
    check, reference = compile_check(schema), Draft7Validator(schema)
    for doc in BOUND_DOCS:
        assert check(doc) == reference.is_valid(doc), (schema, doc)


@pytest.mark.parametrize("extra", [False, True, {"type": "string"}, {"type": "integer", "minimum": 2}])
@pytest.mark.parametrize("props", [{}, {"a": {"type": "integer"}}, {"a": {}, "b": {"type": "string"}}])
@pytest.mark.parametrize("required", [[], ["a"], ["a", "zz"], ["a", "b", "zz"], ["a", "b"]])
def test_objects_keys_and_extra_keys(extra: Any, props: dict[str, Any], required: list[str]) -> None:
    schema = {"type": "object", "properties": props, "required": required, "additionalProperties": extra}
    check, reference = compile_check(schema), Draft7Validator(schema)
    for a in (1, 3, "x", None):
        for b in (1, 3, "x", None):
            for doc in ({}, {"a": a}, {"b": b}, {"zz": b}, {"a": a, "b": b}, {"a": a, "zz": b}):
                assert check(doc) == reference.is_valid(doc), (schema, doc)


@pytest.mark.parametrize("name", ["title", "default", "description", "examples", "$comment", "enum", "n"])
def test_a_ref_under_any_property_name_sends_the_whole_schema_over(name: str) -> None:
    """Property names are data: a `$ref` below one called like an annotation is still found,
    so "#" means the root (a subschema checked alone would resolve it to itself)."""
    schema = {
        "type": "object",
        "required": ["n"],
        "properties": {"n": {"type": "integer"}, name: {"properties": {"child": {"$ref": "#"}}}},
    }
    doc = {"n": 1, name: {"child": {}}}  # the child lacks the root's required "n"
    assert compile_check(schema)(doc) is Draft7Validator(schema).is_valid(doc) is False


def test_a_schema_nested_past_pythons_limits_is_refused_plainly() -> None:
    """Past about 20 nested loops neither generator's code compiles; the tool is refused at
    registration with a message (the router names the tool), not a SyntaxError."""
    schema: dict[str, Any] = {"type": "integer", "minimum": 1}
    for _ in range(30):
        schema = {"type": "array", "items": schema}
    with pytest.raises(ValueError, match="nested too deeply"):
        compile_check(schema)


def test_a_non_finite_bound_is_left_to_fastjsonschema() -> None:
    gen = _Generator()
    gen.schema({"type": "number", "maximum": float("inf")}, "d")
    assert [h for h in gen.helpers if h.startswith("_f")]


SCALAR_UNIVERSE = [None, True, False, 0, 1, 1.0, -0.0, 2.5, 2**53 + 1, "", "a", "1", "true", "null"]
EQUALITY_DOCS = [*SCALAR_UNIVERSE, float(2**53 + 1), [], [1], {}, {"a": 1}, [None], "A"]


@pytest.mark.parametrize("first", range(len(SCALAR_UNIVERSE)))
def test_enum_and_const_compare_values_as_json_schema_does(first: int) -> None:
    """A boolean equals only a boolean, a number any number of the same value (1 and 1.0, 0 and
    -0.0), a string the same string, null only null: every enum of one or two values from a
    universe of lookalikes, and every const, against every lookalike document."""
    a = SCALAR_UNIVERSE[first]
    schemas: list[dict[str, Any]] = [{"const": a}, {"enum": [a]}]
    schemas += [{"enum": [a, b]} for b in SCALAR_UNIVERSE[first + 1 :]]
    for schema in schemas:
        check, reference = compile_check(schema), Draft7Validator(schema)
        for doc in EQUALITY_DOCS:
            assert check(doc) == reference.is_valid(doc), (schema, doc)


def test_anyof_branches_each_decide_and_an_enum_of_objects_is_still_delegated() -> None:
    schema = {"anyOf": [{"type": "integer", "minimum": 3}, False, {"enum": ["x", None]}, {"const": [1]}]}
    check, reference = compile_check(schema), Draft7Validator(schema)
    for doc in (3, 2, "x", None, "y", [1], [1.0], [True], {}, True):
        assert check(doc) == reference.is_valid(doc), doc
    gen = _Generator()
    gen.schema({"const": [1]}, "d")
    assert [h for h in gen.helpers if h.startswith("_f")]  # a non-scalar const: fastjsonschema's


def _delegated_parts(schema: Any, path: str = "$") -> list[str]:
    """Where in `schema` a fastjsonschema function would check (the generator's own code elsewhere)."""
    if isinstance(schema, bool) or schema == {}:
        return []
    if not isinstance(schema, dict) or not _native(schema):
        return [path]
    subs = [(sub, f"{path}.{k}") for k, sub in schema.get("properties", {}).items()]
    subs += [(schema.get("items", {}), f"{path}[]"), (schema.get("additionalProperties", {}), f"{path}.*")]
    subs += [(alt, f"{path}|{i}") for i, alt in enumerate(schema.get("anyOf", []))]
    return [p for sub, where in subs for p in _delegated_parts(sub, where)]


def test_every_tool_output_schema_is_checked_by_the_generators_own_code() -> None:
    """The Kubernetes list's items are an anyOf of kinds, each with enums and a const kind: all
    written as code, none of it handed to fastjsonschema."""
    assert len(TOOLS) >= 9
    assert not [(name, p) for name, t in TOOLS.items() for p in _delegated_parts(t.output_schema)]


@pytest.mark.parametrize(
    "schema",
    [{"const": 2**1024}, {"enum": ["a", 10**400]}, {"minimum": 10**400}, {"maximum": -(10**400)},
     {"properties": {"n": {"const": 10**309}}}],
)  # fmt: skip
def test_an_integer_past_floats_range_is_compared_not_refused(schema: dict[str, Any]) -> None:
    """`math.isfinite` overflows on such an int; JSON allows it, and jsonschema compares it."""
    check, reference = compile_check(schema), Draft7Validator(schema)
    for doc in (2**1024, 10**400, 10**309, -(10**400), 1e308, 1, "a", {"n": 10**309}, {"n": 1e308}):
        assert check(doc) == reference.is_valid(doc), (schema, doc)


@pytest.mark.parametrize("wrap", ["anyOf", "items", "ref"])
def test_any_nesting_too_deep_is_refused_with_a_message(wrap: str) -> None:
    """A tool whose schema nests past the limits is refused at registration with a ValueError
    (the router names the tool), whichever keyword nests and however deep."""
    for depth in (600, 2000):
        schema: dict[str, Any] = {"const": 1}
        for _ in range(depth):
            schema = {"items": schema} if wrap == "items" else {"anyOf": [schema]}
        if wrap == "ref":
            schema = {"definitions": {"x": schema}, "$ref": "#/definitions/x"}
        with pytest.raises(ValueError, match="nested too deeply"):
            compile_check(schema)

