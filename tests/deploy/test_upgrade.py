"""Upgrades on the rendered YAML (no cluster here): a new image tag applies cleanly after the old one
(no immutable field changes), the same tag applies twice without changes, and migrations gate serving."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.deploy._render import DEPLOY, OVERLAYS, by_kind, component, image_tag, pods, render, render_dir

Doc = dict


def _render_prod_with_tag(tmp_path: Path, tag: str) -> list[Doc]:
    tree = tmp_path / tag / "deploy"
    shutil.copytree(DEPLOY, tree)
    kust = tree / "overlays" / "prod" / "kustomization.yaml"
    text = kust.read_text()
    assert 'newTag: "0.1.0"' in text
    kust.write_text(text.replace('newTag: "0.1.0"', f'newTag: "{tag}"'))
    return render_dir(tree / "overlays" / "prod")


def _key(doc: Doc) -> tuple[str, str, str]:
    return doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]


def _immutable(doc: Doc) -> object:
    """What the API server refuses to change on an existing object (of the kinds we ship)."""
    spec = doc.get("spec", {})
    kind = doc["kind"]
    if kind == "Job":
        return spec["template"], spec.get("selector")
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        return spec["selector"]
    if kind == "Service":
        return spec.get("clusterIP"), spec.get("type", "ClusterIP")
    return None


def _apply_errors(old: list[Doc], new: list[Doc]) -> list[str]:
    live = {_key(d): d for d in old}
    return [
        f"{k}: immutable field changed"
        for d in new
        if (k := _key(d)) in live and _immutable(live[k]) != _immutable(d)
    ]


def test_a_new_tag_applies_after_the_old_one_and_the_same_tag_twice(tmp_path: Path) -> None:
    v1 = _render_prod_with_tag(tmp_path, "0.1.0")
    v2 = _render_prod_with_tag(tmp_path, "0.2.0-rc.1")
    v2_again = _render_prod_with_tag(tmp_path / "again", "0.2.0-rc.1")
    assert _apply_errors(v1, v2) == []
    assert _apply_errors(v2, v2_again) == []
    assert yaml.safe_dump_all(v2) == yaml.safe_dump_all(v2_again), "rendering is not deterministic"
    jobs1 = {j["metadata"]["name"] for j in by_kind(v1, "Job")}
    jobs2 = {j["metadata"]["name"] for j in by_kind(v2, "Job")}
    assert jobs1 == {"aiops-migrate-0.1.0", "aiops-runbooks-0.1.0"}
    assert jobs2 == {"aiops-migrate-0.2.0-rc.1", "aiops-runbooks-0.2.0-rc.1"}


def test_the_check_catches_a_job_whose_template_changes_under_the_same_name(tmp_path: Path) -> None:
    v1 = _render_prod_with_tag(tmp_path, "0.1.0")
    v2 = _render_prod_with_tag(tmp_path, "0.2.0")
    for job in by_kind(v2, "Job"):
        job["metadata"]["name"] = job["metadata"]["name"].replace("0.2.0", "0.1.0")
    assert _apply_errors(v1, v2), "a fixed Job name with a new image must be reported"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_job_is_named_after_the_tag_it_runs(overlay: str) -> None:
    docs = render(overlay)
    for job in by_kind(docs, "Job"):
        tag = image_tag(job["spec"]["template"])
        assert tag not in ("", "latest")
        assert job["metadata"]["name"].endswith(f"-{tag}"), job["metadata"]["name"]
    tags = {image_tag(t) for _, t in pods(docs)}
    assert len(tags) == 1, f"{overlay} runs several versions at once: {tags}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_run_before_the_new_version_serves(overlay: str) -> None:
    docs = render(overlay)
    migrate = [t for _, t in pods(docs) if component(t) == "migrate"]
    assert len(migrate) == 1 and migrate[0]["spec"]["containers"][0]["args"] == ["migrate"]
    for dep in by_kind(docs, "Deployment"):
        # Old pods keep serving until new ones are ready; workers/API are ready only on the new schema.
        assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        for c in dep["spec"]["template"]["spec"]["containers"]:
            assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
