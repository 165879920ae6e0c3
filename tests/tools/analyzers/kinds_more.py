"""The failure kinds added last: OLM v0 and v1 objects (as the API server returns them with OLM
installed), the default ServiceAccount holding permissions, ConfigMaps without data (told by
managedFields, the only trace of content in the metadata we read), volumes under 1 GiB."""

from __future__ import annotations

from typing import Any

from tests.tools.analyzers.kinds_builders import T0, Case, Obj, container, deployment, simple

OPS = "operators"
OLM0, OLM0_V1, OLM1 = (
    "operators.coreos.com/v1alpha1",
    "operators.coreos.com/v1",
    "olm.operatorframework.io/v1",
)
RBAC_V1 = "rbac.authorization.k8s.io/v1"


def _cond(type_: str, status: str, reason: str, message: str = "") -> Obj:
    out: Obj = {"type": type_, "status": status, "reason": reason, "lastTransitionTime": T0}
    if message:
        out["message"] = message
    return out


def subscription(name: str, state: str, conditions: list[Obj], **status: Any) -> Obj:
    spec = {
        "channel": "stable",
        "name": name,
        "source": "community-operators",
        "sourceNamespace": OPS,
        "installPlanApproval": "Automatic",
    }
    return simple(
        OLM0,
        "Subscription",
        OPS,
        name,
        spec=spec,
        status={"state": state, "conditions": conditions, **status},
    )


def catalogsource(name: str, state: str | None) -> Obj:
    status = (
        {
            "connectionState": {
                "address": f"{name}.{OPS}.svc:50051",
                "lastObservedState": state,
                "lastConnect": T0,
            }
        }
        if state
        else {}
    )
    spec = {"sourceType": "grpc", "image": f"quay.io/operatorhubio/{name}:latest", "displayName": name}
    return simple(OLM0, "CatalogSource", OPS, name, spec=spec, status=status)


def csv(name: str, phase: str, reason: str, message: str, **md: Any) -> Obj:
    history = [
        {"phase": "Pending", "reason": "RequirementsUnknown", "message": "requirements not yet checked"},
        {"phase": "InstallReady", "reason": "AllRequirementsMet", "message": "all requirements found"},
        {"phase": phase, "reason": reason, "message": message},
    ]
    return simple(
        OLM0,
        "ClusterServiceVersion",
        md.pop("ns", OPS),
        name,
        md=md,
        spec={"displayName": name.split(".")[0], "version": name.split(".v", 1)[-1]},
        status={"phase": phase, "reason": reason, "message": message, "conditions": history},
    )


def installplan(name: str, phase: str, condition: Obj) -> Obj:
    spec = {"approval": "Automatic", "approved": True, "clusterServiceVersionNames": ["etcdoperator.v0.9.4"]}
    return simple(
        OLM0, "InstallPlan", OPS, name, spec=spec, status={"phase": phase, "conditions": [condition]}
    )


def operatorgroup(ns: str, name: str) -> Obj:
    return simple(
        OLM0_V1, "OperatorGroup", ns, name, spec={"upgradeStrategy": {"name": "Default"}}, status={}
    )


def clustercatalog(name: str, conditions: list[Obj], mode: str = "Available") -> Obj:
    spec = {
        "availabilityMode": mode,
        "priority": 0,
        "source": {
            "type": "Image",
            "image": {"ref": f"quay.io/operatorhubio/{name}:latest", "pollIntervalMinutes": 10},
        },
    }
    return simple(OLM1, "ClusterCatalog", None, name, spec=spec, status={"conditions": conditions})


def clusterextension(name: str, conditions: list[Obj]) -> Obj:
    spec = {
        "namespace": name,
        "serviceAccount": {"name": f"{name}-installer"},
        "source": {
            "sourceType": "Catalog",
            "catalog": {"packageName": name, "upgradeConstraintPolicy": "CatalogProvided"},
        },
    }
    return simple(OLM1, "ClusterExtension", None, name, spec=spec, status={"conditions": conditions})


def managed(data_keys: list[str]) -> list[Obj]:
    """managedFields as the API server keeps them for `kubectl create configmap`."""
    fields: Obj = {"f:data": {".": {}, **{f"f:{k}": {} for k in data_keys}}} if data_keys else {}
    return [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": "v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }
    ]


def configmap(name: str, keys: list[str] | None) -> Obj:
    md = {"managedFields": managed(keys)} if keys is not None else {}
    return simple("v1", "ConfigMap", OPS, name, md=md, data={k: "on" for k in keys or []})


def pvc(name: str, size: str) -> Obj:
    return simple(
        "v1",
        "PersistentVolumeClaim",
        OPS,
        name,
        spec={
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "standard",
            "resources": {"requests": {"storage": size}},
            "volumeName": f"pvc-{name}",
        },
        status={"phase": "Bound", "capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"]},
    )


def pv(name: str, size: str) -> Obj:
    spec = {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "storageClassName": "standard"}
    spec |= {"persistentVolumeReclaimPolicy": "Delete", "hostPath": {"path": f"/mnt/{name}"}}
    return simple("v1", "PersistentVolume", None, name, spec=spec, status={"phase": "Available"})


def rolebinding(name: str, role: str) -> Obj:
    return simple(
        RBAC_V1,
        "RoleBinding",
        OPS,
        name,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        subjects=[{"kind": "ServiceAccount", "name": "default", "namespace": OPS}],
    )


def account(name: str, **body: Any) -> Obj:
    return simple("v1", "ServiceAccount", OPS, name, **body)


UNHEALTHY = "targeted catalogsource operators/community-operators unhealthy"
CASES: list[Case] = [
    Case(
        "olm-subscription-unhealthy",
        ("olm_subscription", "subscription", "cert-manager"),
        UNHEALTHY,
        [
            subscription(
                "cert-manager",
                "UpgradePending",
                [_cond("CatalogSourcesUnhealthy", "True", "UnhealthyCatalogSourceFound", UNHEALTHY)],
                currentCSV="cert-manager.v1.14.4",
            )
        ],
        [
            subscription(
                "etcd",
                "AtLatestKnown",
                [
                    _cond(
                        "CatalogSourcesUnhealthy",
                        "False",
                        "AllCatalogSourcesHealthy",
                        "all available catalogsources are healthy",
                    )
                ],
                installedCSV="etcdoperator.v0.9.4",
                currentCSV="etcdoperator.v0.9.4",
            )
        ],
    ),
    Case(
        "olm-catalogsource-unreachable",
        ("olm_catalogsource", "catalogsource", "community-operators"),
        "TRANSIENT_FAILURE",
        [catalogsource("community-operators", "TRANSIENT_FAILURE")],
        [catalogsource("redhat-operators", "READY"), catalogsource("fresh-operators", None)],
    ),
    Case(
        "olm-csv-failed",
        ("olm_csv", "csv", "etcdoperator.v0.9.4"),
        "install timeout",
        [csv("etcdoperator.v0.9.4", "Failed", "InstallCheckFailed", "install timeout")],
        [
            csv(
                "prometheusoperator.v0.56.3",
                "Succeeded",
                "InstallSucceeded",
                "install strategy completed with no errors",
            ),
            csv(
                "strimzi-cluster-operator.v0.38.0",
                "Failed",
                "Copied",
                "The operator is running in kafka-ops but is managing this namespace",
                labels={"olm.copiedFrom": "kafka-ops"},
            ),
        ],
    ),
    Case(
        "olm-installplan-failed",
        ("olm_installplan", "installplan", "install-8xk2p"),
        "InstallComponentFailed",
        [
            installplan(
                "install-8xk2p",
                "Failed",
                _cond(
                    "Installed",
                    "False",
                    "InstallComponentFailed",
                    'error creating csv etcdoperator.v0.9.4: admission webhook "validate.example.com" '
                    "denied the request",
                ),
            )
        ],
        [installplan("install-q7vzd", "Complete", _cond("Installed", "True", "", ""))],
    ),
    Case(
        "olm-operatorgroup-overlap",
        ("olm_operatorgroup", "operatorgroup", "global-operators"),
        "TooManyOperatorGroups",
        [operatorgroup(OPS, "global-operators"), operatorgroup(OPS, "team-operators")],
        [operatorgroup("conf", "conf-operators")],
    ),
    Case(
        "default-serviceaccount-with-permissions",
        ("default_serviceaccount", "serviceaccount", "default"),
        "RoleBinding default-edit grants ClusterRole edit",
        [
            account("default"),
            rolebinding("default-edit", "edit"),
            deployment(OPS, "legacy-sync"),
        ],
        [
            deployment(OPS, "reporter", automountServiceAccountToken=False),
            deployment(OPS, "indexer", serviceAccountName="indexer"),
            account("indexer"),
        ],
    ),
    Case(
        "configmap-empty",
        ("configmap_empty", "configmap", "flagd-flags"),
        "no data",
        [
            configmap("flagd-flags", []),
            deployment(
                OPS, "flagd", containers=[container(envFrom=[{"configMapRef": {"name": "flagd-flags"}}])]
            ),
        ],
        [
            configmap("flagd-defaults", ["flags.json"]),
            configmap("legacy-flags", None),  # no managedFields: cannot tell, so nothing is said
            deployment(
                OPS,
                "flagd-canary",
                containers=[
                    container(
                        envFrom=[
                            {"configMapRef": {"name": "flagd-defaults"}},
                            {"configMapRef": {"name": "legacy-flags"}},
                        ]
                    )
                ],
            ),
        ],
    ),
    Case(
        "pvc-small",
        ("small_volume", "pvc", "scratch"),
        "500Mi",
        [pvc("scratch", "500Mi")],
        [pvc("ledger-data", "20Gi")],
    ),
    Case(
        "pv-small",
        ("small_volume", "pv", "pv-tiny"),
        "500Mi",
        [pv("pv-tiny", "500Mi")],
        [pv("pv-large", "100Gi")],
        cluster_scoped=True,
    ),
    Case(
        "olm-clustercatalog-not-serving",
        ("olm_clustercatalog", "clustercatalog", "community-catalog"),
        "manifest unknown",
        [
            clustercatalog(
                "community-catalog",
                [
                    _cond(
                        "Progressing",
                        "True",
                        "Retrying",
                        "error fetching image quay.io/operatorhubio/community-catalog:latest: "
                        "manifest unknown",
                    ),
                    _cond("Serving", "False", "Unavailable", "Catalog is not being served"),
                ],
            )
        ],
        [
            clustercatalog(
                "operatorhubio",
                [
                    _cond("Progressing", "True", "Succeeded", "Successfully unpacked"),
                    _cond("Serving", "True", "Available", "Serving desired content"),
                ],
            ),
            clustercatalog(
                "retired-catalog",
                [_cond("Serving", "False", "UserSpecifiedUnavailable", "catalog disabled")],
                mode="Unavailable",
            ),
        ],
        cluster_scoped=True,
    ),
    Case(
        "olm-clusterextension-not-installed",
        ("olm_clusterextension", "clusterextension", "argocd"),
        "no bundles found for package",
        [
            clusterextension(
                "argocd",
                [
                    _cond("Installed", "False", "Failed", "No bundle installed"),
                    _cond(
                        "Progressing",
                        "True",
                        "Retrying",
                        'error upgrading from currently installed version "2.10.1": '
                        'no bundles found for package "argocd"',
                    ),
                ],
            )
        ],
        [
            clusterextension(
                "cert-manager",
                [
                    _cond(
                        "Installed", "True", "Succeeded", "Installed bundle cert-manager.v1.14.4 successfully"
                    ),
                    _cond("Progressing", "True", "Succeeded", "Desired state reached"),
                ],
            ),
        ],
        cluster_scoped=True,
    ),
]
