"""The image's compiled hot path, built here for the tests and benches that check it: the wheel
`AIOPS_COMPILE=1` builds (setup.py compiles pyproject's [tool.aiops].compiled with mypyc),
unpacked beside copies of tests/, bench/ and sim/, so that anything run from that folder
imports the compiled modules (the current directory comes first on sys.path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("kernel", "tools", "app", "handlers", "aiops")
_SKIP = shutil.ignore_patterns("__pycache__", "*.so", "build")


def compiled_modules() -> list[str]:
    """Dotted names of the modules the image compiles."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [p.removesuffix(".py").replace("/", ".") for p in config["tool"]["aiops"]["compiled"]]


def compiled_tree(work: Path) -> Path:
    """Build the compiled wheel from a copy of the runtime (the checkout stays clean) and return
    the folder to run from. Needs mypy and a C compiler, as the image's build stage has."""
    src, tree = work / "src", work / "tree"
    for name in RUNTIME:
        shutil.copytree(ROOT / name, src / name, ignore=_SKIP)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(work / "wheel"), str(src)],
        env={**os.environ, "AIOPS_COMPILE": "1"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if build.returncode != 0:
        raise RuntimeError(f"compiled wheel build failed:\n{build.stdout[-3000:]}{build.stderr[-3000:]}")
    (wheel,) = (work / "wheel").glob("aiops-*.whl")
    zipfile.ZipFile(wheel).extractall(tree)
    for name in ("tests", "bench", "sim"):
        shutil.copytree(ROOT / name, tree / name, ignore=_SKIP)
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree
