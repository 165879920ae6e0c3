"""The image compiles the router's hot path with mypyc (setup.py, AIOPS_COMPILE=1). The compiled
modules must behave exactly as their source: this builds that wheel and runs the fast-path
property tests, the sanitizer and injection tests and the router tests against it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from bench.compiled import compiled_modules, compiled_tree

SUITES = [
    "tests/tools/test_fast_paths.py",
    "tests/tools/test_sanitize.py",
    "tests/tools/test_injection_corpus.py",
    "tests/tools/test_router.py",
    "tests/tools/test_router_gate.py",
]


def test_the_compiled_hot_path_passes_the_same_tests(tmp_path: Path) -> None:
    tree = compiled_tree(tmp_path)
    (wheel,) = (tmp_path / "wheel").glob("aiops-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in compiled_modules():
        path = module.replace(".", "/")
        assert any(n.startswith(path + ".cpython-") and n.endswith(".so") for n in names), module
        assert path + ".py" in names  # the source ships beside it: tracebacks and reading stay possible
    probe = "import importlib, sys; print(*(importlib.import_module(m).__file__ for m in sys.argv[1:]))"
    files = subprocess.run(
        [sys.executable, "-c", probe, *compiled_modules()],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert files and all(f.startswith(str(tree)) and f.endswith(".so") for f in files), files
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", *SUITES],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-4000:] + run.stderr[-2000:]
