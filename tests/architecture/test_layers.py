"""The house has one direction: composition root (aiops) → handlers → app → tools → kernel, the
simulators outside the runtime, no import circles, no module past 400 lines. These fail when an
import runs upward, a circle appears or a module grows too large."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("kernel", "tools", "app", "handlers", "aiops")
PACKAGES = (*RUNTIME, "sim")
MAX_LINES = 400


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES)


def test_import_contracts_hold() -> None:
    """The contracts in pyproject.toml ([tool.importlinter]), checked by import-linter itself."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("lower", "upper"),
    [("kernel", "tools"), ("kernel", "app"), ("tools", "app"), ("tools", "handlers"), ("app", "handlers"),
     ("app", "aiops"), ("handlers", "aiops")],
)
def test_no_upward_import(graph: grimp.ImportGraph, lower: str, upper: str) -> None:
    upward = graph.find_illegal_dependencies_for_layers(layers=(upper, lower), containers=set())
    assert not upward, f"{lower} imports {upper}: {upward}"


@pytest.mark.parametrize("package", RUNTIME)
def test_runtime_never_imports_simulators(graph: grimp.ImportGraph, package: str) -> None:
    for module in graph.find_descendants(package) | {package}:
        for imported in graph.find_modules_directly_imported_by(module):
            assert not imported.startswith("sim"), f"{module} imports {imported}"


def test_no_import_circles(graph: grimp.ImportGraph) -> None:
    """Between modules, not packages: a package __init__ re-exporting its children is not a circle."""
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back and not _through_package_init(module, back):
                circles.append(" → ".join((module, *back)))
    assert not circles, "\n".join(circles)


def _through_package_init(module: str, chain: tuple[str, ...]) -> bool:
    """A → B → A where A is B's parent package only because A's __init__ re-exports B."""
    return any(other.startswith(module + ".") or module.startswith(other + ".") for other in chain[:-1])


def test_every_module_is_at_most_400_lines() -> None:
    too_long = {
        str(p.relative_to(ROOT)): n
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not too_long, too_long
