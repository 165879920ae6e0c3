"""The kinds added last, beyond their fixtures in kinds_more.py: what managedFields can and cannot
tell about a ConfigMap's data (never a false "empty"), quantities, the default ServiceAccount's
own automount switch, and odd OLM shapes (hypothesis)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.tools.analyzers.kinds_more import CASES, OPS, account, deployment, rolebinding
from tests.tools.analyzers.test_odd_shapes import ODD_VALUE, SETTINGS, run_all, state_of
from tools.analyzers.hygiene import GIB, quantity_bytes
from tools.kubernetes.facts import data_keys

FIELDS_V1 = st.recursive(
    st.dictionaries(
        st.sampled_from(["f:data", "f:binaryData", "f:metadata", ".", "f:x", "k:{}"]), st.just({})
    ),
    lambda inner: st.dictionaries(
        st.sampled_from(["f:data", "f:binaryData", "f:metadata", "f:key", "."]), st.one_of(inner, ODD_VALUE)
    ),
    max_leaves=8,
)
ENTRY = st.one_of(
    st.fixed_dictionaries({"manager": st.just("m"), "fieldsV1": FIELDS_V1}),
    st.fixed_dictionaries({"manager": st.just("m")}, optional={"fieldsV1": ODD_VALUE}),
    ODD_VALUE,
)


def _has_data_key(entry: Any) -> bool:
    fields = entry.get("fieldsV1") if isinstance(entry, dict) else None
    return isinstance(fields, dict) and any(
        isinstance(fields.get(s), dict) and any(k.startswith("f:") for k in fields[s])
        for s in ("f:data", "f:binaryData")
    )


@SETTINGS
@given(st.lists(ENTRY, max_size=4))
def test_managed_fields_never_claim_empty_when_a_writer_set_a_data_key(entries: list[Any]) -> None:
    keys = data_keys({"managedFields": entries})
    if any(_has_data_key(e) for e in entries):
        assert keys != 0
    if keys == 0:  # "empty" only when every entry's field set could be read
        assert entries and all(isinstance(e, dict) and isinstance(e.get("fieldsV1"), dict) for e in entries)


@given(
    st.integers(0, 5000),
    st.sampled_from(["", "Ki", "Mi", "Gi", "Ti", "k", "M", "G", "T", "m", "e3", "e9"]),
)
def test_quantities(number: int, suffix: str) -> None:
    factor = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": GIB, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9,
              "T": 1e12, "m": 1e-3, "e3": 1e3, "e9": 1e9}[suffix]  # fmt: skip
    assert quantity_bytes(f"{number}{suffix}") == number * factor


@given(st.one_of(st.text(max_size=12), st.from_regex(r"[0-9]{1,4}[eE][0-9]{1,5}", fullmatch=True)))
def test_any_text_is_a_quantity_or_none(text: str) -> None:
    value = quantity_bytes(text)
    assert value is None or value >= 0


def test_default_account_with_automount_off_or_no_binding_raises_nothing() -> None:
    off = [
        account("default", automountServiceAccountToken=False),
        rolebinding("rb", "edit"),
        deployment(OPS, "app"),
    ]
    assert not {f for f in run_all(state_of(off, {})) if f[0] == "default_serviceaccount"}
    unbound = [account("default"), deployment(OPS, "app")]
    assert not {f for f in run_all(state_of(unbound, {})) if f[0] == "default_serviceaccount"}
    bound = [account("default"), rolebinding("rb", "edit"), deployment(OPS, "app")]
    assert ("default_serviceaccount", "serviceaccount", "default") in run_all(state_of(bound, {}))


OLM_CASES = [c for c in CASES if c.expect[0].startswith("olm_")]


@SETTINGS
@given(st.data())
def test_olm_objects_with_odd_status_never_raise_and_keep_the_fault(data: Any) -> None:
    case = data.draw(st.sampled_from(OLM_CASES), label="case")
    objects = copy.deepcopy(case.fault)
    odd = copy.deepcopy(data.draw(st.sampled_from(case.fault + case.healthy), label="twin"))
    odd["metadata"]["name"] = "odd-twin"
    status = odd.setdefault("status", {})
    for key in data.draw(
        st.lists(st.sampled_from(["conditions", "state", "phase", "connectionState"]), max_size=3)
    ):
        status[key] = data.draw(ODD_VALUE)
    if data.draw(st.booleans()):
        odd["spec"] = data.draw(ODD_VALUE)
    assert case.expect in run_all(state_of([*objects, odd], {}))
