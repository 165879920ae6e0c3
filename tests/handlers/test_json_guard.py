"""too_deep() agrees with the real nesting depth of any JSON value, strings included."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.json_guard import JsonRefused, loads, too_deep

_scalars = st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:')
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet="[]{}ab"), inner, max_size=3)
    ),
    max_leaves=40,
)


def depth(v: Any) -> int:
    if isinstance(v, list):
        return 1 + max((depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((depth(x) for x in v.values()), default=0)
    return 0


@settings(max_examples=300)
@given(_values, st.integers(min_value=0, max_value=8))
def test_too_deep_matches_real_depth(value: Any, limit: int) -> None:
    assert too_deep(json.dumps(value), limit) == (depth(value) > limit)


def test_brackets_inside_strings_do_not_count() -> None:
    assert not too_deep(json.dumps({"text": "[" * 10_000}))


def test_loads_refuses_hostile_bodies_with_a_reason() -> None:
    for body in (b"[" * 100_000, b"9" * 5000, b'"\xff"', b"{nope"):
        try:
            loads(body)
        except JsonRefused as exc:
            assert str(exc)
        else:
            raise AssertionError(body[:20])
