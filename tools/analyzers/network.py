"""Network detectors: Services without (ready) endpoints — linked to the unready pods and their
failing probe —, Ingresses (missing class, backend Service, TLS Secret), NetworkPolicies that
select no pods, and admission webhooks whose Service is missing or has no ready endpoint.

Endpoint addresses are never read into findings: facts.endpointslice keeps counts and pod names."""

from __future__ import annotations

import re

from tools.analyzers.base import ClusterState, Finding, Obj, event_lines, newest_first, tool_call
from tools.kubernetes.facts import label_selector, selects

LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
BUILTIN_INGRESS_CLASSES = frozenset({"gce", "gce-internal"})
"""GKE's built-in classes exist without an IngressClass object."""
MAX_LINKED_PODS = 3
_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\[[0-9a-fA-F:]+\]")
"""Pod addresses (a probe message quotes the URL it tried): never part of an endpoint finding."""


def _endpoints(state: ClusterState) -> dict[tuple[str, str], tuple[int, list[str]]]:
    """(namespace, service) → (ready endpoints, unready pod names) summed over its slices."""
    out: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for s in state.of("endpointslice"):
        if not s["service"]:
            continue
        key = (s["namespace"] or "", s["service"])
        ready, pods = out.get(key, (0, []))
        out[key] = (ready + s["ready"], pods + s["not_ready_pods"])
    return out


def _pod_line(state: ClusterState, ns: str, pod_name: str) -> str:
    """The unready pod and why: its failing probe (newest Unhealthy event) or container state."""
    pod = next((p for p in state.pods_in(ns) if p["name"] == pod_name), None)
    probes = newest_first([e for e in state.events_for(ns, "Pod", pod_name) if e["reason"] == "Unhealthy"])
    if probes:
        return (
            f"pod {pod_name} not ready: {_ADDRESS.sub('[pod-ip]', probes[0]['message'] or 'probe failing')}"
        )
    if pod is None:
        return f"pod {pod_name} not ready"
    states = ", ".join(
        f"{c['name']} {c['state_reason'] or c['state']}"
        for c in pod["containers"]
        if not c["ready"] and not c["init"]
    )
    return f"pod {pod_name} not ready ({pod['phase'] or '?'}{', ' + states if states else ''})"


def service_endpoints(state: ClusterState) -> list[Finding]:
    if "endpointslice" not in state.facts:
        return []
    endpoints = _endpoints(state)
    out = []
    for svc in state.of("service"):
        ns, name = svc["namespace"] or "", svc["name"]
        if svc["type"] == "ExternalName" or not svc["selector"] or LEADER_ANNOTATION in svc["annotations"]:
            continue
        ready, unready = endpoints.get((ns, name), (0, []))
        if ready and not unready:
            continue
        selector = ",".join(f"{k}={v}" for k, v in svc["selector"].items())
        matching: list[str] = []
        if not unready:  # no endpoint at all: do any pods match?
            sel = label_selector({"matchLabels": svc["selector"]})
            matching = [p["name"] for p in state.pods_in(ns) if selects(sel, p["labels"])]
        if unready:
            what = f"{len(unready)} of {ready + len(unready)} endpoints are not ready"
            if not ready:
                what = f"no ready endpoints ({len(unready)} not ready): it sends traffic nowhere"
        elif matching:
            what = (
                f"no endpoints although {len(matching)} pod(s) match selector {selector} "
                "(none ready or running)"
            )
        else:
            what = f"no endpoints: no pod matches its selector {selector}"
        linked = (unready or matching)[:MAX_LINKED_PODS]
        out.append(
            Finding(
                analyzer="service_endpoints",
                severity="critical" if not ready else "warning",
                namespace=ns,
                kind="service",
                name=name,
                summary=f"Service {name} has {what}.",
                evidence=(
                    f"selector {selector}; ready endpoints {ready}, not ready {len(unready)}"
                    + ("" if unready else f", matching pods {len(matching)}"),
                    *(_pod_line(state, ns, p) for p in linked),
                    *event_lines(state.events_for(ns, "Service", name)),
                ),
                next_query=tool_call("k8s_list", kind="pod", namespace=ns, label_selector=selector),
                related=tuple(f"pod/{ns}/{p}" for p in linked),
            )
        )
    return out


def ingresses(state: ClusterState) -> list[Finding]:
    services = state.names_by_ns("service")
    secrets = state.names_by_ns("secret")
    classes = state.cluster_names.get("ingressclass")
    out = []
    for ing in state.of("ingress"):
        ns, name = ing["namespace"] or "", ing["name"]
        problems: list[str] = []
        if ing["class"] and classes is not None and ing["class"] not in classes | BUILTIN_INGRESS_CLASSES:
            problems.append(
                f"uses IngressClass {ing['class']}, which does not exist (no controller serves it)"
            )
        if services is not None:
            problems += [
                f"routes to Service {svc}, which does not exist"
                for svc, _ in ing["backends"]
                if svc not in services.get(ns, set())
            ]
        if secrets is not None:
            problems += [
                f"terminates TLS with Secret {s}, which does not exist"
                for s in ing["tls_secrets"]
                if s not in secrets.get(ns, set())
            ]
        if not problems:
            continue
        out.append(
            Finding(
                analyzer="ingress",
                severity="critical",
                namespace=ns,
                kind="ingress",
                name=name,
                summary=f"Ingress {name} " + "; ".join(problems) + ".",
                evidence=(
                    f"class {ing['class'] or '(default)'}; backends "
                    + (", ".join(f"{s}:{p}" for s, p in ing["backends"]) or "none")
                    + f"; TLS secrets {', '.join(ing['tls_secrets']) or 'none'}",
                    *event_lines(state.events_for(ns, "Ingress", name)),
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"Ingress/{name}"),
                related=tuple(f"service/{ns}/{s}" for s, _ in ing["backends"]),
            )
        )
    return out


def network_policies(state: ClusterState) -> list[Finding]:
    out = []
    for pol in state.of("networkpolicy"):
        ns, name = pol["namespace"] or "", pol["name"]
        sel: Obj = pol["pod_selector"]
        if not sel["match_labels"] and not sel["match_expressions"]:
            summary = (
                f"NetworkPolicy {name} selects every pod in namespace {ns} "
                f"({', '.join(pol['policy_types']) or 'Ingress'}): check it is the intended default."
            )
            severity = "info"
        elif not any(selects(sel, p["labels"]) for p in state.pods_in(ns)):
            summary = f"NetworkPolicy {name} selects no pod in namespace {ns}: it has no effect."
            severity = "warning"
        else:
            continue
        out.append(
            Finding(
                analyzer="network_policy",
                severity=severity,  # type: ignore[arg-type]
                namespace=ns,
                kind="networkpolicy",
                name=name,
                summary=summary,
                evidence=(
                    "podSelector "
                    + (
                        ",".join(f"{k}={v}" for k, v in sel["match_labels"].items())
                        + "".join(
                            f",{e['key']} {e['operator']} {e['values']}" for e in sel["match_expressions"]
                        )
                        or "{} (all pods)"
                    ),
                ),
                next_query=tool_call("k8s_list", kind="pod", namespace=ns),
            )
        )
    return out


def webhooks(state: ClusterState) -> list[Finding]:
    services = state.names_by_ns("service")
    if services is None:
        return []
    endpoints = _endpoints(state) if "endpointslice" in state.facts else None
    out = []
    for cfg in [*state.of("mutatingwebhook"), *state.of("validatingwebhook")]:
        title = (
            "MutatingWebhookConfiguration"
            if cfg["kind"] == "mutatingwebhook"
            else "ValidatingWebhookConfiguration"
        )
        for hook in cfg["webhooks"]:
            svc_ns, svc = hook["service_namespace"], hook["service_name"]
            if not svc_ns or not svc:
                continue  # a URL webhook: nothing in the cluster to check
            if svc not in services.get(svc_ns, set()):
                why = f"its Service {svc_ns}/{svc} does not exist"
            elif endpoints is not None and not endpoints.get((svc_ns, svc), (0, []))[0]:
                why = f"its Service {svc_ns}/{svc} has no ready endpoint"
            else:
                continue
            blocking = hook["failure_policy"] == "Fail"
            out.append(
                Finding(
                    analyzer="admission_webhook",
                    severity="critical" if blocking else "warning",
                    namespace=None,
                    kind=cfg["kind"],
                    name=cfg["name"],
                    summary=(
                        f"{title} {cfg['name']}: webhook {hook['name']} cannot be called — {why}; "
                        + (
                            "with failurePolicy Fail every matching API request is rejected."
                            if blocking
                            else "with failurePolicy Ignore its checks are silently skipped."
                        )
                    ),
                    evidence=(
                        f"webhook {hook['name']}: service {svc_ns}/{svc}, "
                        f"failurePolicy {hook['failure_policy']}",
                    ),
                    next_query=tool_call("k8s_list", kind="service", namespace=svc_ns),
                    related=(f"service/{svc_ns}/{svc}",),
                )
            )
    return out
