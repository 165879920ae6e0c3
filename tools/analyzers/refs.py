"""Reference detectors: pods and pod templates naming ConfigMaps, Secrets, image pull Secrets or
ServiceAccounts that do not exist; ConfigMaps nothing uses; RoleBindings to missing Roles or
ServiceAccounts, or to Roles with wildcard rules. ConfigMaps and Secrets are known by metadata only."""

from __future__ import annotations

from collections.abc import Iterator

from tools.analyzers.base import KIND_TITLES, ClusterState, Finding, Obj, tool_call

SYSTEM_CONFIGMAPS = frozenset({"kube-root-ca.crt", "istio-ca-root-cert"})
DYNAMIC_LABELS = ("grafana_dashboard", "grafana_datasource", "prometheus_rule", "role")
"""Labels of ConfigMaps loaded by a sidecar or operator by label, not referenced by a pod."""
SKIP_ANNOTATION = "aiops.io/ignore-unused"


def workload_owners(state: ClusterState) -> Iterator[tuple[str, str, str, Obj]]:
    """(kind, namespace, name, refs) of every pod and pod template whose controller we did not
    read: a pod of a ReplicaSet of a Deployment is reported once, on the Deployment."""

    def controlled(ns: str, owner: str | None) -> bool:
        kind, _, name = (owner or "").partition("/")
        return (kind.lower(), ns, name) in state.template_refs

    owners = {(p["namespace"], p["name"]): p["owner"] for p in state.pods}
    for (ns, name), refs in state.pod_refs.items():
        if not controlled(ns, owners.get((ns, name))):
            yield "pod", ns, name, refs
    for (kind, ns, name), refs in state.template_refs.items():
        if not controlled(ns, refs.get("owner")):
            yield kind, ns, name, refs


def missing_references(state: ClusterState) -> list[Finding]:
    configmaps, secrets = state.names_by_ns("configmap"), state.names_by_ns("secret")
    accounts = state.names_by_ns("serviceaccount")
    out = []
    for kind, ns, name, refs in sorted(workload_owners(state), key=lambda o: o[:3]):
        missing: list[str] = []
        if configmaps is not None:
            have = configmaps.get(ns, set())
            missing += [
                f"ConfigMap {cm}"
                for cm, opt in sorted(refs["configmaps"].items())
                if not opt and cm not in have
            ]
        if secrets is not None:
            have = secrets.get(ns, set())
            missing += [
                f"Secret {s}" for s, opt in sorted(refs["secrets"].items()) if not opt and s not in have
            ]
            missing += [f"image pull Secret {s}" for s in refs["pull_secrets"] if s not in have]
        sa = refs["service_account"]
        if accounts is not None and sa and sa != "default" and sa not in accounts.get(ns, set()):
            missing.append(f"ServiceAccount {sa}")
        if not missing:
            continue
        title = KIND_TITLES.get(kind, kind)
        out.append(
            Finding(
                analyzer="missing_reference",
                severity="critical",
                namespace=ns,
                kind=kind,
                name=name,
                summary=(
                    f"{title} {name} references {', '.join(missing)}, which "
                    f"{'does' if len(missing) == 1 else 'do'} not exist in namespace {ns}: its pods cannot "
                    "be created or started."
                ),
                evidence=tuple(f"{m}: not found (referenced by {title} {name})" for m in missing),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"{title}/{name}"),
            )
        )
    return out


def unused_configmaps(state: ClusterState) -> list[Finding]:
    if "configmap" not in state.facts:
        return []
    used = {(ns, cm) for (ns, _), refs in state.pod_refs.items() for cm in refs["configmaps"]}
    used |= {(ns, cm) for (_, ns, _), refs in state.template_refs.items() for cm in refs["configmaps"]}
    out = []
    for cm in state.of("configmap"):
        ns, name = cm["namespace"] or "", cm["name"]
        if (
            (ns, name) in used
            or name in SYSTEM_CONFIGMAPS
            or any(label in cm["labels"] for label in DYNAMIC_LABELS)
            or cm["annotations"].get(SKIP_ANNOTATION) == "true"
            or any(k.startswith(("meta.helm.sh/", "control-plane.alpha")) for k in cm["annotations"])
        ):
            continue
        out.append(
            Finding(
                analyzer="configmap_unused",
                severity="info",
                namespace=ns,
                kind="configmap",
                name=name,
                summary=f"ConfigMap {name} is not referenced by any pod or pod template in namespace {ns}.",
                evidence=("no env, envFrom, volume or projected source names it (read as metadata only)",),
                next_query=tool_call("k8s_list", kind="pod", namespace=ns),
            )
        )
    return out


def rolebindings(state: ClusterState) -> list[Finding]:
    if "rolebinding" not in state.facts:
        return []
    roles = {(r["namespace"], r["name"]): r for r in state.of("role")}
    accounts = state.names_by_ns("serviceaccount")
    out = []
    for rb in state.of("rolebinding"):
        ns, name = rb["namespace"] or "", rb["name"]
        problems = []
        role = roles.get((ns, rb["role_name"] or ""))
        if rb["role_kind"] == "Role" and "role" in state.facts and role is None:
            problems.append(("warning", f"binds Role {rb['role_name']}, which does not exist"))
        if role is not None and role["wildcard"]:
            problems.append(
                (
                    "warning",
                    f"binds Role {rb['role_name']}, whose rules grant wildcard (*) verbs or resources",
                )
            )
        for sa_ns, sa in rb["service_accounts"]:
            if accounts is not None and sa_ns == ns and sa not in accounts.get(ns, set()):
                problems.append(("info", f"names ServiceAccount {sa}, which does not exist"))
        if not problems:
            continue
        out.append(
            Finding(
                analyzer="rolebinding",
                severity="warning" if any(p[0] == "warning" for p in problems) else "info",
                namespace=ns,
                kind="rolebinding",
                name=name,
                summary=f"RoleBinding {name} " + "; ".join(p[1] for p in problems) + ".",
                evidence=(
                    f"roleRef {rb['role_kind']}/{rb['role_name']}; service accounts: "
                    + (", ".join(f"{n}/{s}" for n, s in rb["service_accounts"]) or "none"),
                ),
                next_query=tool_call("k8s_events", namespace=ns, involved_object=f"RoleBinding/{name}"),
            )
        )
    return out
