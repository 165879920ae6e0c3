"""deploy/base/prometheusrule.yaml: `promtool check rules` on the groups taken out of the
PrometheusRule, `promtool test rules` with series that fire and series that must not, every metric
it names exists in kernel/metrics.py (or comes from Prometheus / kube-state-metrics), and the
actions the seed asks for are written in the annotations."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kernel.metrics import Metrics
from tests.deploy._render import DEPLOY

HERE = Path(__file__).parent
EXTERNAL_METRICS = {"up", "kube_job_status_failed"}


def _rule() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "base" / "prometheusrule.yaml").read_text())  # type: ignore[no-any-return]


def _alerts() -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in _rule()["spec"]["groups"] for r in g["rules"] if "alert" in r}


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed: run `make test-deps` (Debian's prometheus package)")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_promtool(), *args], capture_output=True, text=True, check=False)


def test_promtool_checks_the_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(_rule()["spec"]))
    out = _run("check", "rules", str(rules))
    assert out.returncode == 0, out.stdout + out.stderr


def _unit_test(tmp_path: Path, spec: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    # Annotations are long prose with templates; they are checked below, the labels by promtool.
    for group in spec["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(spec))
    tests = yaml.safe_load((HERE / "prometheusrule_test.yaml").read_text())
    tests["rule_files"] = [str(rules)]
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(yaml.safe_dump(tests))
    return _run("test", "rules", str(test_file))


def test_promtool_unit_tests_fire_and_stay_quiet(tmp_path: Path) -> None:
    out = _unit_test(tmp_path, _rule()["spec"])
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_unit_tests_fail_when_a_rule_is_weakened(tmp_path: Path) -> None:
    spec = _rule()["spec"]
    for group in spec["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "AiopsScopeBypass":
                rule["expr"] = "sum by (tool, layer) (increase(aiops_scope_violations_total[5m])) > 5"
    out = _unit_test(tmp_path, spec)
    assert out.returncode != 0 and "AiopsScopeBypass" in out.stdout + out.stderr


def _exposed_names() -> set[str]:
    names: set[str] = set()
    for family in Metrics().registry.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
    return names


def test_every_metric_the_rules_use_exists() -> None:
    exposed = _exposed_names()
    for name, rule in _alerts().items():
        expr = re.sub(r"\bby\s*\([^)]*\)", "", rule["expr"])
        metrics = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*[{\[]", expr)) | set(
            re.findall(r"\baiops_[a-z0-9_]+", expr)
        )
        assert metrics, name
        for metric in metrics:
            assert metric in exposed or metric in EXTERNAL_METRICS, f"{name}: {metric} is not exported"
    assert "aiops_scope_violations_total" in exposed


def test_the_seeds_four_signals_are_there_with_their_actions() -> None:
    alerts = _alerts()
    signals = {r["labels"].get("signal"): name for name, r in alerts.items() if "signal" in r["labels"]}
    assert {"token-spike", "scope-bypass", "prompt-injection", "auth-failures"} <= set(signals)
    assert "rotate" in alerts["AiopsLLMTokenSpike"]["annotations"]["action"].lower()
    assert "block" in alerts["AiopsPromptInjectionDetected"]["annotations"]["action"].lower()
    assert "rate-limit" in alerts["AiopsAuthFailureSpike"]["annotations"]["action"].lower()
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"].get("summary") and rule["annotations"].get("action"), name


def test_scope_bypass_pages_and_names_the_kill_switch_but_refusals_never_page() -> None:
    alerts = _alerts()
    bypass, refusals = alerts["AiopsScopeBypass"], alerts["AiopsScopeRefusalsHigh"]
    assert bypass["labels"] == {**bypass["labels"], "severity": "critical", "page": "true"}
    assert "/aiops pause" in bypass["annotations"]["action"]
    assert "AIOPS_TOOLS_PAUSED" in bypass["annotations"]["action"]
    assert "aiops_scope_violations_total" in bypass["expr"] and "denials" not in bypass["expr"]
    assert refusals["labels"]["severity"] == "warning" and refusals["labels"]["page"] == "false"
    assert "aiops_scope_denials_total" in refusals["expr"] and "violations" not in refusals["expr"]
    runbook = (DEPLOY.parent / "docs" / "operations.md").read_text()
    assert "### Out-of-scope data (scope bypass)" in runbook and "/aiops pause" in runbook


def test_the_kill_switch_the_runbook_names_is_a_setting_of_the_deployment() -> None:
    from tests.deploy._render import render

    (settings,) = [
        d for d in render("prod") if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "aiops-settings"
    ]
    assert settings["data"]["AIOPS_TOOLS_PAUSED"] == "false"
