"""The production wheel (what the image installs) carries the runtime only: no simulator, no
demo, no tests — and `aiops demo` without the aiops-sim distribution says so in one line."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_built_wheel_has_no_simulators(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path),
         str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("aiops-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names if not n.startswith("aiops-")}
    assert tops == {"kernel", "tools", "app", "handlers", "aiops"}, tops
    assert not [n for n in names if n.startswith(("sim/", "tests/"))]
    assert "aiops/cli.py" in names
    assert any(n.startswith("app/audit/migrations/") and n.endswith(".sql") for n in names)


def test_demo_without_the_simulators_says_it_is_not_installed(tmp_path: Path) -> None:
    """The runtime alone (as in the image): `aiops demo` finds no `aiops.commands` entry point."""
    code = (
        "import sys, importlib.metadata as md\n"
        "md.entry_points = lambda **kw: []\n"  # the view of an environment without aiops-sim
        "from aiops.cli import main\n"
        "sys.exit(main(['demo']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "demo is not installed" in lines[0], result.stderr
