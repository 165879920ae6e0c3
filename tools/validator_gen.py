"""Schema → a Python function that says whether a document is valid (draft-07), generated once per
schema: the router's output validation, three to four times faster than fastjsonschema's code.

fastjsonschema's generated code is built to raise a detailed error; ours only answers yes or no
(a rejected document is described by `jsonschema`, the reference, in tools/schema.py), so for the
keywords our tools use most it can be straight-line code: no key sets, no error strings. It knows
`type`, `properties`, `required`, `additionalProperties`, `items` (one schema), the length, size
and numeric bounds, boolean schemas, `enum` and `const` of scalars (compared as JSON Schema
compares them: a boolean equals only a boolean, 1 equals 1.0), and `anyOf` (each branch a
function of its own: the Kubernetes list's items are an anyOf of kinds). Any other subschema
(`pattern`, `oneOf`, an enum of objects, …) is handed whole to a fastjsonschema function; a
schema with `$ref` is handed over whole (a reference may point anywhere in it).
tests/tools/test_validator_gen.py and test_schema.py hold the result to jsonschema's verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import fastjsonschema

_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples"})
_DATA = _ANNOTATIONS | {"enum", "const"}
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
"""Keywords whose value maps names (data, not keywords) to subschemas."""
_KNOWN = _ANNOTATIONS | {
    "type", "properties", "required", "additionalProperties", "items",
    "minLength", "maxLength", "minItems", "maxItems",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "enum", "const", "anyOf",
}  # fmt: skip

# What jsonschema's draft-07 type checker accepts (arrays: tuples too, as fastjsonschema does,
# since tools may build them; the walk after validation treats both alike).
_TYPE = {
    "string": "isinstance({v}, str)",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, (list, tuple))",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
    "integer": "((isinstance({v}, int) and not isinstance({v}, bool))"
    " or (isinstance({v}, float) and {v}.is_integer()))",
}
_BOUNDS = {  # keyword → (applies to, comparison that fails)
    "minLength": ("string", "len({v}) < {n}"),
    "maxLength": ("string", "len({v}) > {n}"),
    "minItems": ("array", "len({v}) < {n}"),
    "maxItems": ("array", "len({v}) > {n}"),
    "minimum": ("number", "{v} < {n}"),
    "maximum": ("number", "{v} > {n}"),
    "exclusiveMinimum": ("number", "{v} <= {n}"),
    "exclusiveMaximum": ("number", "{v} >= {n}"),
}
_OBJECT_KEYWORDS = ("properties", "required", "additionalProperties")


def compile_check(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """A function returning True exactly when `schema` (draft-07, checked) accepts a document."""
    gen = _Generator()
    try:
        if _mentions_ref(schema):
            return _delegated(schema)
        body = gen.schema(schema, "d")
        source = "def check(d):\n" + "".join(f"    {line}\n" for line in body) + "    return True\n"
        namespace: dict[str, Any] = {"_MISSING": _MISSING, **gen.helpers}
        exec(compile(source, "<aiops validator>", "exec"), namespace)  # noqa: S102 (our own schemas)
    except (SyntaxError, RecursionError) as exc:  # past Python's nesting limits (fastjsonschema's too)
        raise ValueError(f"schema is nested too deeply to compile ({type(exc).__name__})") from None
    check: Callable[[Any], bool] = namespace["check"]
    return check


_MISSING = object()
_FAIL = "    return False"


def _block(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


class _Generator:
    """Writes the checks as lines relative to column 0; nesting indents them a level."""

    def __init__(self) -> None:
        self.helpers: dict[str, Any] = {}
        self._count = 0

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _var(self) -> str:
        return self._name("v")

    def _helper(self, prefix: str, value: Any) -> str:
        """A name for `value` in the generated code's namespace."""
        name = self._name(prefix)
        self.helpers[name] = value
        return name

    def schema(self, schema: Any, v: str) -> list[str]:
        """Lines that `return False` when the value in `v` fails `schema`."""
        if schema is True or schema == {}:
            return []
        if schema is False:
            return ["return False"]
        if not isinstance(schema, dict) or not _native(schema):
            return [f"if not {self._helper('_f', _delegated(schema))}({v}):", _FAIL]
        lines: list[str] = []
        kinds = schema.get("type")
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if kinds is not None:
            lines += [f"if not ({' or '.join(_TYPE[k].format(v=v) for k in kinds)}):", _FAIL]
        for keyword, (applies, fails) in _BOUNDS.items():
            if keyword in schema:
                test = fails.format(v=v, n=repr(schema[keyword]))
                lines += _guarded(applies, kinds, v, [f"if {test}:", _FAIL])
        if "items" in schema:
            item = self._var()
            inner = self.schema(schema["items"], item)
            if inner:
                lines += _guarded("array", kinds, v, [f"for {item} in {v}:", *_block(inner)])
        if any(k in schema for k in _OBJECT_KEYWORDS):
            lines += _guarded("object", kinds, v, self._object(schema, v))
        for keyword in ("enum", "const"):
            if keyword in schema:
                values = schema["enum"] if keyword == "enum" else [schema["const"]]
                lines += [f"if not ({self._one_of_values(values, v)}):", _FAIL]
        if "anyOf" in schema:
            names = [self._helper("_a", _alternative(alternative)) for alternative in schema["anyOf"]]
            lines += [f"if not ({' or '.join(f'{n}({v})' for n in names)}):", _FAIL]
        return lines

    def _one_of_values(self, values: list[Any], v: str) -> str:
        """A test that `v` equals one of the scalar `values` as JSON Schema compares them: a
        boolean only a boolean, a number any number of the same value (1 and 1.0), a string the
        same string, null only null."""
        tests = ["{v} is None"] if any(x is None for x in values) else []
        for kind, test, members in (
            ("_s", "isinstance({v}, str)", [x for x in values if isinstance(x, str)]),
            ("_b", "isinstance({v}, bool)", [x for x in values if isinstance(x, bool)]),
            ("_n", _TYPE["number"], [x for x in values if _is_number(x)]),
        ):
            if members:
                tests.append(f"({test} and {{v}} in {self._helper(kind, frozenset(members))})")
        return " or ".join(tests).format(v=v) if tests else "False"

    def _object(self, schema: dict[str, Any], v: str) -> list[str]:
        lines: list[str] = []
        props: dict[str, Any] = schema.get("properties", {})
        required = schema.get("required", [])
        extra = schema.get("additionalProperties", True)
        exact = extra is False and bool(props) and set(required) == set(props)
        if exact:  # a closed object with every property required (our summaries): one set compare
            lines += [f"if {v}.keys() != {self._helper('_k', frozenset(props))}:", _FAIL]
        elif len(required) > 2:  # one C-level pass instead of a chain of lookups
            lines += [f"if not ({v}.keys() >= {self._helper('_r', frozenset(required))}):", _FAIL]
        elif required:
            lines += [f"if {' or '.join(f'{name!r} not in {v}' for name in required)}:", _FAIL]
        for name, sub in props.items():
            value = self._var()
            inner = self.schema(sub, value)
            if inner and name in required:  # present: checked just above
                lines += [f"{value} = {v}[{name!r}]", *inner]
            elif inner:
                lines += [
                    f"{value} = {v}.get({name!r}, _MISSING)",
                    f"if {value} is not _MISSING:",
                    *_block(inner),
                ]
        key, value = self._var(), self._var()
        inner = [] if exact else self.schema(extra, value)
        if extra is False and inner:  # no key outside `properties`, again in one pass
            lines += [f"if not ({v}.keys() <= {self._helper('_k', frozenset(props))}):", _FAIL]
        elif inner and props:
            names = self._helper("_k", frozenset(props))
            lines += [
                f"for {key}, {value} in {v}.items():",
                f"    if {key} not in {names}:",
                *_block(_block(inner)),
            ]
        elif inner:
            lines += [f"for {key}, {value} in {v}.items():", *_block(inner)]
        return lines


def _alternative(schema: Any) -> Callable[[Any], bool]:
    """One `anyOf` branch as a function of its own (the generator's code, or fastjsonschema's)."""
    if schema is True or schema is False:
        return (lambda value: True) if schema else (lambda value: False)
    if not isinstance(schema, dict):
        return _delegated(schema)
    return compile_check(schema)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """A number, not a boolean, and finite (any int is; `math.isfinite` overflows on a huge one)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _scalar(value: Any) -> bool:
    """A value `enum`/`const` can hold natively: null, a boolean, a string or a finite number."""
    return value is None or isinstance(value, str | bool) or _finite(value)


def _guarded(applies: str, kinds: list[str] | None, v: str, body: list[str]) -> list[str]:
    """`body` under a type test, unless `type` has already made sure of it."""
    if not body:
        return []
    if kinds and all(k == applies or (applies == "number" and k == "integer") for k in kinds):
        return body
    return [f"if {_TYPE[applies].format(v=v)}:", *_block(body)]


def _native(schema: dict[str, Any]) -> bool:
    """Whether every keyword of `schema` itself is one this generator writes code for."""
    if not set(schema) <= _KNOWN:
        return False
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if kinds is not None and (not isinstance(kinds, list) or not kinds or not set(kinds) <= set(_TYPE)):
        return False
    for keyword in _BOUNDS:
        n = schema.get(keyword)
        if keyword in schema and not _finite(n):
            return False
    if "enum" in schema and not (isinstance(schema["enum"], list) and all(map(_scalar, schema["enum"]))):
        return False
    if "const" in schema and not _scalar(schema["const"]):
        return False
    if "anyOf" in schema and not (isinstance(schema["anyOf"], list) and schema["anyOf"]):
        return False
    props = schema.get("properties", {})
    required = schema.get("required", [])
    return (
        isinstance(props, dict)
        and all(isinstance(k, str) for k in props)
        and isinstance(required, list)
        and all(isinstance(k, str) for k in required)
        and isinstance(schema.get("items", {}), dict | bool)
        and isinstance(schema.get("additionalProperties", True), dict | bool)
    )


def subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every object in `schema` that stands where a subschema can, `schema` first. The values of
    name → subschema maps are walked whatever their names (a property may be called `title` or
    `$ref`); data (`enum`, `const`, annotations) is not."""
    if isinstance(schema, list):
        for sub in schema:
            yield from subschemas(sub)
        return
    if not isinstance(schema, dict):
        return
    yield schema
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            for sub in value.values():
                yield from subschemas(sub)
        elif key not in _DATA:
            yield from subschemas(value)


def keyword_values(schema: Any, keyword: str) -> Iterator[Any]:
    """Every value of `keyword` wherever a subschema can be."""
    return (node[keyword] for node in subschemas(schema) if keyword in node)


def _mentions_ref(schema: Any) -> bool:
    return any(True for _ in keyword_values(schema, "$ref"))


def _delegated(schema: Any) -> Callable[[Any], bool]:
    """fastjsonschema's function for `schema`, answering yes or no."""
    validate = fastjsonschema.compile(schema, use_default=False, use_formats=False)

    def check(value: Any) -> bool:
        try:
            validate(value)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    return check
