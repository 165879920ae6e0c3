"""Gateway API detectors: GatewayClasses not accepted, Gateways with a missing class or not
accepted/programmed, HTTPRoutes to missing or disallowed Gateways and missing backend Services
or ports. Reads nothing when the Gateway API is not installed (its lists answer 404 → empty)."""

from __future__ import annotations

from tools.analyzers.base import ClusterState, Finding, cause, event_lines, tool_call


def _not_true(conditions: list[dict[str, object]], types: tuple[str, ...]) -> list[str]:
    return [
        f"condition {c['type']}={c['status']} {cause(c['reason'], c['message'], '')}".rstrip()  # type: ignore[arg-type]
        for c in conditions
        if c["type"] in types and c["status"] != "True"
    ]


def gateway_classes(state: ClusterState) -> list[Finding]:
    out = []
    for gc in state.of("gatewayclass"):
        bad = _not_true(gc["conditions"], ("Accepted",))
        if not bad:
            continue
        out.append(
            Finding(
                analyzer="gatewayclass",
                severity="warning",
                namespace=None,
                kind="gatewayclass",
                name=gc["name"],
                summary=(
                    f"GatewayClass {gc['name']} is not accepted by its controller "
                    f"{gc['controller'] or '?'}: Gateways of this class are not served."
                ),
                evidence=tuple(bad),
                next_query=tool_call("k8s_events", involved_object=f"GatewayClass/{gc['name']}"),
            )
        )
    return out


def gateways(state: ClusterState) -> list[Finding]:
    classes = state.cluster_names.get("gatewayclass")
    out = []
    for gw in state.of("gateway"):
        ns, name = gw["namespace"] or "", gw["name"]
        problems = []
        if gw["class"] and classes is not None and gw["class"] not in classes:
            problems.append(f"GatewayClass {gw['class']} does not exist")
        bad = _not_true(gw["conditions"], ("Accepted", "Programmed"))
        if not problems and not bad:
            continue
        out.append(
            Finding(
                analyzer="gateway",
                severity="critical",
                namespace=ns,
                kind="gateway",
                name=name,
                summary=f"Gateway {name} is not serving: " + "; ".join(problems + bad) + ".",
                evidence=(
                    f"gatewayClassName {gw['class'] or '?'}",
                    *bad,
                    *event_lines(state.events_for(ns, "Gateway", name)),
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"Gateway/{name}"),
            )
        )
    return out


def http_routes(state: ClusterState) -> list[Finding]:
    gws = {(g["namespace"], g["name"]): g for g in state.of("gateway")}
    listed = state.listed_namespaces
    services = {(s["namespace"], s["name"]): s for s in state.of("service")}

    def known(ns: str) -> bool:  # objects of a namespace we did not list are not known to be missing
        return listed is None or ns in listed

    out = []
    for route in state.of("httproute"):
        ns, name = route["namespace"] or "", route["name"]
        problems = []
        for gw_ns, gw_name in route["parents"]:
            gw = gws.get((gw_ns, gw_name))
            if gw is None:
                if known(gw_ns) or (gw_ns, gw_name) in state.missing_parents:
                    problems.append(f"its parent Gateway {gw_ns}/{gw_name} does not exist")
            elif gw_ns != ns and gw["allowed_from"] == ["Same"]:
                problems.append(f"Gateway {gw_ns}/{gw_name} only accepts routes from its own namespace")
        for b_ns, b_name, port in route["backends"]:
            svc = services.get((b_ns, b_name))
            if svc is None:
                if known(b_ns) and "service" in state.facts:
                    problems.append(f"backend Service {b_ns}/{b_name} does not exist")
            elif port is not None and port not in {p["port"] for p in svc["ports"]}:
                problems.append(f"backend Service {b_ns}/{b_name} has no port {port}")
        bad = _not_true(route["conditions"], ("Accepted", "ResolvedRefs"))
        if not problems and not bad:
            continue
        out.append(
            Finding(
                analyzer="httproute",
                severity="critical",
                namespace=ns,
                kind="httproute",
                name=name,
                summary=f"HTTPRoute {name} does not route traffic: " + "; ".join(problems or bad) + ".",
                evidence=(
                    "parents " + (", ".join(f"{a}/{b}" for a, b in route["parents"]) or "none"),
                    "backends " + (", ".join(f"{a}/{b}:{p}" for a, b, p in route["backends"]) or "none"),
                    *bad,
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"HTTPRoute/{name}"),
                related=tuple(f"gateway/{a}/{b}" for a, b in route["parents"]),
            )
        )
    return out
