"""Tool schemas, checked and compiled once: draft-07, validated by generated code.

The router validates every tool input and every tool output before it reaches the model, on
every call, so the validator is on the hot path. tools/validator_gen.py turns a schema into a
yes-or-no Python function for the keywords our tools use most and hands every other subschema to
`fastjsonschema` (itself about a hundred times faster than `jsonschema` on our outputs), which
supports drafts 4, 6 and 7 only, so our schemas must stay within draft-07: `check_draft07` refuses
the keywords only 2019-09/2020-12 know (a validator that ignores a keyword would silently accept
more).

`jsonschema` stays the reference: it checks the schema itself and, when the fast validator
rejects a document, names the best-matching error (so messages to the model are unchanged).
tests/tools/test_schema.py proves both accept and reject exactly the same documents.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError, best_match

from tools.validator_gen import compile_check, keyword_values, subschemas

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
NEWER_DRAFT_KEYWORDS = frozenset(
    {
        "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor",
        "$vocabulary", "prefixItems", "dependentRequired", "dependentSchemas",
        "unevaluatedProperties", "unevaluatedItems", "minContains", "maxContains",
        "contentSchema",
    }
)  # fmt: skip
"""Keywords of 2019-09/2020-12 that draft-07 (and so fastjsonschema) does not know."""

_DOLLAR = re.compile(r"(?<!\\)\$")


@dataclass(frozen=True)
class Violation:
    path: str
    """JSONPath of the offending value, e.g. `$.series[0].labels`."""
    rule: str
    """The schema keyword it breaks, e.g. `type`."""
    message: str
    """Human-readable; may quote the value (only echo it for the model's own input)."""


class Validator(Protocol):
    def first_error(self, value: Any) -> Violation | None: ...


class ReferenceValidator:
    """`jsonschema`'s draft-07 validator: the reference the fast one is tested against."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._validator = Draft7Validator(schema)

    def first_error(self, value: Any) -> Violation | None:
        error = best_match(self._validator.iter_errors(value))
        if error is None:
            return None
        return Violation(error.json_path, str(error.validator), error.message)


class FastValidator:
    """A generated yes-or-no function (tools/validator_gen.py); only a rejected document pays
    for a message, from the reference."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._check = _compile(json.dumps(schema, sort_keys=True))
        self._schema = schema
        self._reference: ReferenceValidator | None = None

    def first_error(self, value: Any) -> Violation | None:
        if self._check(value):
            return None
        if self._reference is None:
            self._reference = ReferenceValidator(self._schema)
        # Fail closed: should the reference disagree, the fast rejection still stands.
        return self._reference.first_error(value) or Violation("$", "schema", "does not match the schema")


def compile_schema(schema: dict[str, Any]) -> FastValidator:
    """Check `schema` (valid draft-07, no newer keywords) and compile it. Raises ValueError."""
    check_draft07(schema)
    return FastValidator(schema)


def check_draft07(schema: dict[str, Any]) -> None:
    declared = schema.get("$schema")
    if declared is not None and declared.rstrip("#") != DRAFT_07.rstrip("#"):
        raise ValueError(f"schema declares {declared!r}; only draft-07 is supported")
    refs = [r for r in keyword_values(schema, "$ref") if isinstance(r, str)]
    remote = sorted({r for r in refs if not r.startswith("#")})
    if remote:  # fastjsonschema would fetch them over the network at compile time
        raise ValueError(f"schema refers to other documents: {', '.join(remote)}")
    patterns = [p for p in keyword_values(schema, "pattern") if isinstance(p, str)]
    dollar = sorted(p for p in patterns if _DOLLAR.search(p))
    if dollar:  # Python's `$` also matches before a final newline, ECMA-262's does not
        raise ValueError(f"pattern uses `$`; end it with (?![\\s\\S]) instead: {dollar[0]}")
    found = sorted(set(newer_keywords(schema)))
    if found:
        raise ValueError(f"schema uses keywords draft-07 does not know: {', '.join(found)}")
    if any(True for _ in keyword_values(schema, "multipleOf")):  # fastjsonschema rounds floats
        raise ValueError("multipleOf is not supported: the validators disagree on floats (0.07 of 0.01)")
    if not _all_finite(schema):  # JSON has no infinity or NaN; fastjsonschema's code cannot name them
        raise ValueError("schema holds a non-finite number")
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"invalid JSON schema: {exc.message}") from exc


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    return True


def newer_keywords(schema: Any) -> Iterator[str]:
    """Every 2019-09/2020-12-only keyword used anywhere in `schema` (and array-less `items`
    is fine; `items` as a list means tuple validation in draft-07 and is allowed too)."""
    return (key for node in subschemas(schema) for key in node if key in NEWER_DRAFT_KEYWORDS)


@lru_cache(maxsize=256)
def _compile(canonical: str) -> Callable[[Any], bool]:
    """One generated function per distinct schema (routers are built often in tests). Parts it
    delegates to fastjsonschema fill in no defaults (validation must not change the data) and
    assert no formats (jsonschema does not assert formats by default either)."""
    return compile_check({**json.loads(canonical), "$schema": DRAFT_07})
