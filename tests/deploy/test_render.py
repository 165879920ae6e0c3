"""Every overlay renders with `kubectl kustomize`; built-in kinds validate strictly against a current
Kubernetes schema (kubernetes-validate), the CRDs and Kong's declarative config against _schemas."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy._render import DEPLOY, OVERLAYS, by_kind, render
from tests.deploy._schemas import CUSTOM_KINDS, KONG_DECLARATIVE

K8S_VERSION = kubernetes_validate.latest_version()
RECEIVER_PATHS = {"~/slack/events$", "~/alerts/alertmanager$"}


def _validate(doc: dict[str, Any]) -> None:
    schema = CUSTOM_KINDS.get(doc["kind"])
    if schema is not None:
        jsonschema.validate(doc, schema)
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_kubernetes_version_is_current() -> None:
    major, minor = (int(x) for x in K8S_VERSION.split(".")[:2])
    assert (major, minor) >= (1, 33)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_every_object_validates(overlay: str) -> None:
    docs = render(overlay)
    assert docs
    for doc in docs:
        _validate(doc)


def test_every_overlay_is_tested() -> None:
    assert set(OVERLAYS) >= {"dev", "prod", "vault", "kong"}


def test_strict_validation_rejects_a_misspelt_field() -> None:
    (dep,) = [
        d for d in render("prod") if d["kind"] == "Deployment" and d["metadata"]["name"] == "aiops-worker"
    ]
    dep["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFS"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(dep)


@pytest.mark.parametrize("kind", sorted(CUSTOM_KINDS))
def test_custom_schemas_reject_an_unknown_field(kind: str) -> None:
    found = [d for o in OVERLAYS for d in render(o) if d["kind"] == kind]
    assert found, f"no overlay renders a {kind}"
    bad = copy.deepcopy(found[0])
    bad["spec"]["unknownField"] = 1
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)


def test_prod_scales_workers_on_the_stream_lag_and_the_receiver_on_cpu() -> None:
    docs = render("prod")
    (so,) = by_kind(docs, "ScaledObject")
    assert so["spec"]["scaleTargetRef"]["name"] == "aiops-worker"
    (trigger,) = so["spec"]["triggers"]
    assert trigger["type"] == "redis-streams"
    assert trigger["metadata"]["stream"] == "aiops:jobs" and trigger["metadata"]["consumerGroup"] == "workers"
    assert "lagCount" in trigger["metadata"]
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind(docs, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"aiops-receiver"}, "KEDA owns the worker's HPA; two would fight"
    assert hpas["aiops-receiver"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    (worker,) = [d for d in by_kind(docs, "Deployment") if d["metadata"]["name"] == "aiops-worker"]
    assert "replicas" not in worker["spec"], "an apply would reset what KEDA scaled"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budgets_and_spread_for_every_deployment(overlay: str) -> None:
    docs = render(overlay)
    for dep in by_kind(docs, "Deployment"):
        spread = dep["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    if overlay != "dev":  # one replica in dev: a budget would block every drain
        covered = {
            p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
            for p in by_kind(docs, "PodDisruptionBudget")
        }
        assert covered == {"receiver", "worker", "api"}


def _kong() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "overlays" / "kong" / "kong.yml").read_text())  # type: ignore[no-any-return]


def test_kong_config_matches_its_schema_and_is_what_the_overlay_ships() -> None:
    cfg = _kong()
    jsonschema.validate(cfg, KONG_DECLARATIVE)
    (cm,) = [d for d in render("kong") if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "aiops-kong"]
    assert yaml.safe_load(cm["data"]["kong.yml"]) == cfg
    bad = copy.deepcopy(cfg)
    bad["services"][0]["routes"][0]["protocols"] = ["ftp"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, KONG_DECLARATIVE)


def test_kong_serves_https_only_and_routes_two_receiver_paths() -> None:
    cfg = _kong()
    assert cfg["certificates"], "TLS certificate missing"
    services = {s["name"]: s for s in cfg["services"]}
    for svc in services.values():
        for route in svc["routes"]:
            assert route["protocols"] == ["https"], route["name"]
        plugins = {p["name"]: p["config"] for p in svc.get("plugins", [])}
        assert plugins["rate-limiting"]["limit_by"] == "ip"
        assert "allowed_payload_size" in plugins["request-size-limiting"]
    receiver = services["aiops-receiver"]
    assert {p for r in receiver["routes"] for p in r["paths"]} == RECEIVER_PATHS
    assert all(r["methods"] == ["POST"] for r in receiver["routes"])


def test_kong_checks_jwt_on_the_api_and_not_on_the_ui() -> None:
    routes = {r["name"]: r for s in _kong()["services"] for r in s["routes"]}
    api_plugins = {p["name"]: p["config"] for p in routes["api"].get("plugins", [])}
    assert "exp" in api_plugins["jwt"]["claims_to_verify"]
    assert routes["api"]["paths"] == ["/api/v1/"]
    assert not any(p["name"] == "jwt" for p in routes["web-ui"].get("plugins", []))
    # the public endpoints (Keycloak discovery for the CLI, OpenAPI) are GET-only and exact
    assert routes["api-public"]["methods"] == ["GET", "HEAD"]
    assert all(p.startswith("~/api/v1/") and p.endswith("$") for p in routes["api-public"]["paths"])
    (consumer,) = _kong()["consumers"]
    assert consumer["jwt_secrets"][0]["algorithm"] == "RS256"


def test_the_sample_alertmanager_receiver_posts_to_the_webhook_with_the_token_file() -> None:
    cfg = yaml.safe_load((DEPLOY / "alertmanager" / "webhook.yaml").read_text())
    (hook,) = cfg["receivers"][0]["webhook_configs"]
    assert hook["url"].startswith("https://") and hook["url"].endswith("/alerts/alertmanager")
    auth = hook["http_config"]["authorization"]
    assert auth["type"] == "Bearer" and auth["credentials_file"].endswith("/alertmanager_token")
    assert hook["send_resolved"] is True
