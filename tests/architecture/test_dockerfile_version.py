"""agent_version in a built image is the git SHA from the build arg, never "dev" (issue 10 item 5)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _runtime_stage() -> str:
    text = (ROOT / "Dockerfile").read_text()
    return text[text.rindex("\nFROM ") :]


def test_runtime_stage_takes_the_sha_from_a_build_arg() -> None:
    stage = _runtime_stage()
    assert "ARG GIT_SHA" in stage
    assert "AIOPS_AGENT_VERSION=$GIT_SHA" in stage


def test_the_guard_refuses_an_empty_or_dev_sha() -> None:
    guard = next(
        line for line in _runtime_stage().splitlines() if "GIT_SHA" in line and line.startswith("RUN")
    )
    script = guard.removeprefix("RUN ")
    for value, ok in (("", False), ("dev", False), ("3f2a9c1", True)):
        done = subprocess.run(["sh", "-c", script], env={"GIT_SHA": value}, capture_output=True, check=False)
        assert (done.returncode == 0) is ok, value
