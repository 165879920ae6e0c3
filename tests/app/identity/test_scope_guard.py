"""The effective scope is built in one place: `effective_scope()` (kernel/scope.py), called
only by the identity service. Static check over the production source tree + the runtime guard,
and property tests of the intersection rules."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel import scope as scope_module
from kernel.roles import KNOWN_ROLES
from kernel.scope import EffectiveScope, Identity, effective_scope

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = ("kernel", "app", "tools", "handlers", "aiops", "sim")
# name → files (relative to ROOT) allowed to use it
ALLOWED = {
    "EffectiveScope": {"kernel/scope.py"},  # construction
    "_FACTORY_KEY": {"kernel/scope.py"},
    "effective_scope": {"kernel/scope.py", "app/identity/service.py"},  # calls
    "Identity": {
        "kernel/scope.py",
        "app/identity/service.py",
        "app/identity/claims.py",
    },  # construction
}


def _uses(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name in ("EffectiveScope", "effective_scope", "Identity"):
                found.add(name)
            if name == "replace" and any(
                isinstance(a, ast.Name) and "scope" in a.id.lower() for a in node.args
            ):
                found.add("EffectiveScope")  # dataclasses.replace(scope, …) counts as building one
        if isinstance(node, ast.Name | ast.Attribute):
            ident = node.id if isinstance(node, ast.Name) else node.attr
            if ident == "_FACTORY_KEY":
                found.add("_FACTORY_KEY")
    return found


def test_no_production_code_builds_a_scope_elsewhere() -> None:
    offenders = []
    files = [p for d in PRODUCTION for p in (ROOT / d).rglob("*.py")]
    assert any(p.name == "service.py" for p in files)  # the scan really covers the tree
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        for name in _uses(ast.parse(path.read_text(encoding="utf-8"))):
            if rel not in ALLOWED[name]:
                offenders.append(f"{rel}: {name}")
    assert offenders == []


def test_the_scanner_catches_a_rogue_builder() -> None:
    rogue = (
        "from kernel.scope import effective_scope\n"
        "scope = effective_scope(i, channel_id=None, channel_namespaces=None)"
    )
    assert _uses(ast.parse(rogue)) == {"effective_scope"}
    assert _uses(ast.parse("EffectiveScope(identity=i)")) == {"EffectiveScope"}
    assert _uses(ast.parse("dataclasses.replace(scope, namespaces=None)")) == {"EffectiveScope"}


IDENT = Identity("U1", "sub-1", "vera", frozenset({"viewer"}), frozenset({"team-a"}))


def test_runtime_guard() -> None:
    perms = effective_scope(IDENT, channel_id=None, channel_namespaces=None).permissions
    with pytest.raises(TypeError):
        EffectiveScope(
            identity=IDENT,
            channel_id=None,
            namespaces=None,
            cluster_wide=True,  # type: ignore[call-arg]
            permissions=perms,
        )
    with pytest.raises(TypeError):
        EffectiveScope(
            identity=IDENT,
            channel_id=None,
            namespaces=None,
            cluster_wide=True,
            permissions=perms,
            _key=object(),
        )
    scope = effective_scope(IDENT, channel_id=None, channel_namespaces=None)
    with pytest.raises(ValueError):  # replace() cannot widen a scope
        dataclasses.replace(scope, namespaces=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scope.namespaces = None  # type: ignore[misc]
    assert scope_module.EffectiveScope is EffectiveScope


namespaces = st.frozensets(
    st.sampled_from(["team-a", "team-b", "team-c", "kube-system", "default"]), max_size=5
)
roles = st.frozensets(st.sampled_from([*sorted(KNOWN_ROLES), "root", "Admin", "superuser", ""]), max_size=3)


@given(
    roles,
    namespaces,
    st.one_of(st.none(), namespaces),
    st.sampled_from(["team-a", "team-b", "team-c", "kube-system", "default", "other"]),
)
def test_scope_is_never_wider_than_user_or_channel(
    user_roles: frozenset[str], user_ns: frozenset[str], channel_ns: frozenset[str] | None, probe: str
) -> None:
    ident = Identity("U1", "s", "u", user_roles, user_ns)
    scope = effective_scope(ident, channel_id="C1", channel_namespaces=channel_ns)
    is_admin = "admin" in user_roles
    if scope.allows(probe):
        assert user_roles & KNOWN_ROLES, "unknown roles grant nothing"
        assert is_admin or probe in user_ns
        assert channel_ns is None or probe in channel_ns
    if channel_ns is not None:
        assert not scope.cluster_wide and not scope.allows(None)
    if not user_roles & KNOWN_ROLES:
        assert not scope.may_query and not scope.may_recommend and not scope.allows(probe)
    if is_admin and channel_ns is None:
        assert scope.namespaces is None and scope.allows(probe) and scope.allows(None)
    if not is_admin:
        assert not scope.allows(None) and not scope.may_run_jobs
    assert scope.may_recommend == bool(user_roles & {"analyst", "admin"})
