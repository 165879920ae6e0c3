"""The image and its pipeline, checked on their text (no Docker and no GitHub Actions here): the
Dockerfile runs non-root and ships no simulators or tests, the git SHA becomes the agent version, the
workflow passes actionlint, and Dependabot watches pip, the base image and the actions."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy._render import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def _final_stage() -> list[str]:
    lines = [ln.strip() for ln in (REPO / "Dockerfile").read_text().splitlines()]
    instructions = [ln for ln in lines if ln and not ln.startswith("#")]
    last_from = max(i for i, ln in enumerate(instructions) if ln.upper().startswith("FROM "))
    return instructions[last_from:]


def _copies() -> list[str]:
    text = (REPO / "Dockerfile").read_text()
    return [
        ln.split(None, 1)[1] for ln in text.splitlines() if ln.strip().upper().startswith(("COPY ", "ADD "))
    ]


def test_image_runs_as_a_numeric_non_root_user() -> None:
    users = [ln.split()[1] for ln in _final_stage() if ln.upper().startswith("USER ")]
    assert users, "no USER in the final stage: the image would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) == 10001, (
        "a numeric uid lets runAsNonRoot verify it; 10001 = the manifests'"
    )


def test_image_copies_no_simulators_tests_or_whole_tree() -> None:
    for src in _copies():
        if src.startswith("--from="):
            continue
        paths = src.split()[:-1]
        assert "." not in paths and "./" not in paths, f"COPY {src} takes the whole tree (sim/, tests/)"
        for path in paths:
            assert not re.match(r"(\./)?(sim|tests|bench|deploy)(/|$)", path), f"COPY {src}"
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {"sim", "tests", ".git"} <= set(ignored)
    assert "embedded" not in (REPO / "Dockerfile").read_text().split("#")[0]


def test_git_sha_build_arg_becomes_the_agent_version() -> None:
    stage = "\n".join(_final_stage())
    assert re.search(r"^ARG GIT_SHA\b", stage, re.MULTILINE)
    assert re.search(r"AIOPS_AGENT_VERSION=\$\{?GIT_SHA\}?", stage)


def _actionlint() -> str:
    path = shutil.which("actionlint") or str(Path(__import__("sys").executable).parent / "actionlint")
    if not Path(path).exists():
        pytest.fail("actionlint is not installed: `make install` (dev extra) provides it")
    return path


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(workflow: Path) -> None:
    out = subprocess.run(
        [_actionlint(), "-no-color", str(workflow)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_actionlint_does_fail_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    steps:\n      - run: echo ${{ github.nope }}\n")
    out = subprocess.run(
        [_actionlint(), "-no-color", str(broken)], capture_output=True, text=True, check=False
    )
    assert out.returncode != 0


def _image_steps() -> list[dict]:
    wf = yaml.safe_load((REPO / ".github" / "workflows" / "image.yml").read_text())
    return wf["jobs"]["image"]["steps"]  # type: ignore[no-any-return]


def test_workflow_builds_with_the_sha_scans_and_publishes_an_sbom() -> None:
    steps = {s.get("uses", "run").split("@")[0]: s for s in _image_steps()}
    build = steps["docker/build-push-action"]["with"]
    assert "GIT_SHA=${{ github.sha }}" in build["build-args"]
    trivy = steps["aquasecurity/trivy-action"]["with"]
    assert trivy["severity"] == "CRITICAL" and str(trivy["exit-code"]) == "1"
    sbom = steps["anchore/sbom-action"]["with"]
    assert sbom["format"].startswith("spdx") and sbom["upload-artifact"] is True
    names = [s.get("uses", "").split("@")[0] or s.get("name") for s in _image_steps()]
    assert names.index("aquasecurity/trivy-action") < names.index("Push"), "scan before publishing"


def test_dependabot_watches_pip_the_base_image_and_the_actions() -> None:
    cfg = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    assert {u["package-ecosystem"] for u in cfg["updates"]} == {"pip", "docker", "github-actions"}
