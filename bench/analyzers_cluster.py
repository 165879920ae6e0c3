"""The synthetic cluster of bench/analyzers.py: per namespace 10 Deployments (+ ReplicaSets,
Services, ConfigMaps, ServiceAccounts, HPAs, PDBs, NetworkPolicies) and their pods, an Ingress,
a CronJob, a Job, a StatefulSet, a DaemonSet, a PVC, a Role and RoleBinding, a Gateway and an
HTTPRoute, a Secret, 20 Warning events and OLM objects; cluster-wide nodes, classes, PVs, a webhook,
ClusterCatalogs and ClusterExtensions. Faults are planted in a few percent of them (crash loops,
unready pods, a missing HPA target, a failed CSV, …)."""

from __future__ import annotations

from typing import Any

T0 = "2026-11-26T09:00:00Z"


def _pod(ns: str, name: str, app: str, owner: str, i: int) -> dict[str, Any]:
    crash = i % 97 == 0
    unready = i % 89 == 0
    state = {"waiting": {"reason": "CrashLoopBackOff"}} if crash else {"running": {"startedAt": T0}}
    return {
        "kind": "Pod",
        "metadata": {
            "name": name, "namespace": ns, "labels": {"app": app},
            "ownerReferences": [{"kind": "ReplicaSet", "name": owner, "controller": True}],
        },
        "spec": {
            "nodeName": f"node-{i % 20}", "serviceAccountName": f"{app}-sa" if i % 2 else "default",
            "containers": [{
                "name": "app", "image": f"registry.example.com/{app}:1.{i % 7}",
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                "envFrom": [{"configMapRef": {"name": f"{app}-config"}}],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
            }],
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False" if crash or unready else "True"}],
            "containerStatuses": [{
                "name": "app", "image": "x", "ready": not (crash or unready),
                "restartCount": 7 if crash else 0, "state": state,
                **({"lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": T0}}}
                   if crash else {}),
            }],
        },
    }  # fmt: skip


def _namespace(ns: str, n: int, pods_per_ns: int) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = []
    apps = [f"svc{j}" for j in range(10)]
    for j, app in enumerate(apps):
        tpl = {
            "metadata": {"labels": {"app": app}},
            "spec": {
                "serviceAccountName": f"{app}-sa",
                "containers": [
                    {
                        "name": "app",
                        "image": "x",
                        "resources": {"requests": {"cpu": "100m"}},
                        "envFrom": [{"configMapRef": {"name": f"{app}-config"}}],
                    }
                ],
            },
        }
        rs = f"{app}-6c9f7d5b8"
        objs += [
            {
                "kind": "Deployment",
                "metadata": {"name": app, "namespace": ns},
                "spec": {
                    "replicas": pods_per_ns // 10,
                    "selector": {"matchLabels": {"app": app}},
                    "template": tpl,
                },
                "status": {"availableReplicas": pods_per_ns // 10, "readyReplicas": pods_per_ns // 10},
            },
            {
                "kind": "ReplicaSet",
                "metadata": {
                    "name": rs,
                    "namespace": ns,
                    "ownerReferences": [{"kind": "Deployment", "name": app, "controller": True}],
                },
                "spec": {"replicas": pods_per_ns // 10, "template": tpl},
                "status": {"availableReplicas": pods_per_ns // 10},
            },
            {
                "kind": "Service",
                "metadata": {"name": app, "namespace": ns},
                "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": 8080}]},
            },
            {"kind": "ConfigMap", "metadata": {"name": f"{app}-config", "namespace": ns}, "data": {"k": "v"}},
            {"kind": "ServiceAccount", "metadata": {"name": f"{app}-sa", "namespace": ns}},
            {
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": app, "namespace": ns},
                "spec": {
                    "scaleTargetRef": {"kind": "Deployment", "name": app if j else "gone"},
                    "minReplicas": 2,
                    "maxReplicas": 20,
                },
            },
            {
                "kind": "PodDisruptionBudget",
                "metadata": {"name": app, "namespace": ns},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": app}}},
                "status": {"conditions": [{"type": "DisruptionAllowed", "status": "True"}]},
            },
            {
                "kind": "NetworkPolicy",
                "metadata": {"name": app, "namespace": ns},
                "spec": {"podSelector": {"matchLabels": {"app": app}}},
            },
        ]
        for k in range(pods_per_ns // 10):
            objs.append(_pod(ns, f"{rs}-{k:05d}", app, rs, n * pods_per_ns + j * 10 + k))
    objs += [
        {"kind": "Secret", "metadata": {"name": "tls", "namespace": ns}, "data": {"tls.key": "c2VjcmV0"}},
        {
            "kind": "Ingress",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"secretName": "tls"}],
                "rules": [
                    {
                        "http": {
                            "paths": [
                                {
                                    "backend": {
                                        "service": {
                                            "name": "svc0" if n % 10 else "nope",
                                            "port": {"number": 80},
                                        }
                                    }
                                }
                            ]
                        }
                    }
                ],
            },
        },
        {
            "kind": "CronJob",
            "metadata": {"name": "nightly", "namespace": ns},
            "spec": {
                "schedule": "0 3 * * *" if n % 10 else "0 3 * *",
                "jobTemplate": {"spec": {"template": {}}},
            },
        },
        {
            "kind": "Job",
            "metadata": {"name": "nightly-1", "namespace": ns},
            "spec": {"template": {}},
            "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]},
        },
        {
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": ns},
            "spec": {
                "replicas": 1,
                "serviceName": "svc1",
                "template": {"spec": {"containers": [{"name": "pg"}]}},
            },
            "status": {"availableReplicas": 1, "readyReplicas": 1},
        },
        {
            "kind": "DaemonSet",
            "metadata": {"name": "agent", "namespace": ns},
            "spec": {"template": {}},
            "status": {"desiredNumberScheduled": 20, "numberAvailable": 20, "numberReady": 20},
        },
        {
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": ns},
            "spec": {"storageClassName": "gp3"},
            "status": {"phase": "Bound"},
        },
        {
            "kind": "Role",
            "metadata": {"name": "reader", "namespace": ns},
            "rules": [{"resources": ["pods"], "verbs": ["get"]}],
        },
        {
            "kind": "RoleBinding",
            "metadata": {"name": "reader", "namespace": ns},
            "roleRef": {"kind": "Role", "name": "reader"},
            "subjects": [],
        },
        {
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": ns},
            "spec": {"gatewayClassName": "envoy"},
            "status": {
                "conditions": [
                    {"type": "Accepted", "status": "True"},
                    {"type": "Programmed", "status": "True"},
                ]
            },
        },
        {
            "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {
                "parentRefs": [{"name": "gw"}],
                "rules": [{"backendRefs": [{"name": "svc0", "port": 80}]}],
            },
        },
    ]
    objs += [
        {
            "kind": "Event",
            "metadata": {"name": f"ev{k}", "namespace": ns},
            "type": "Warning",
            "reason": "BackOff",
            "message": "Back-off restarting failed container",
            "lastTimestamp": T0,
            "involvedObject": {"kind": "Pod", "name": f"svc{k % 10}-6c9f7d5b8-{k:05d}", "namespace": ns},
        }
        for k in range(20)
    ]
    return objs  # fmt: skip


def _operators(ns: str, n: int) -> list[dict[str, Any]]:
    """OLM objects, a default ServiceAccount bound to a Role and an empty ConfigMap (metadata tells
    via managedFields) — faulty in every tenth or twenty-fifth namespace."""
    olm = "operators.coreos.com/v1alpha1"
    bad_sub = [{"type": "CatalogSourcesUnhealthy", "status": "True", "reason": "UnhealthyCatalogSourceFound"}]
    fields = {"f:data": {".": {}, "f:k": {}}} if n % 10 else {}
    return [
        {"apiVersion": olm, "kind": "Subscription", "metadata": {"name": "etcd", "namespace": ns},
         "spec": {"name": "etcd", "source": "catalog", "sourceNamespace": ns},
         "status": {"state": "AtLatestKnown" if n % 10 else "UpgradePending",
                    "conditions": [] if n % 10 else bad_sub}},
        {"apiVersion": olm, "kind": "CatalogSource", "metadata": {"name": "catalog", "namespace": ns},
         "status": {"connectionState": {"lastObservedState": "READY" if n % 10 else "TRANSIENT_FAILURE"}}},
        {"apiVersion": olm, "kind": "ClusterServiceVersion",
         "metadata": {"name": "etcd.v0.9.4", "namespace": ns},
         "status": {"phase": "Succeeded" if n % 25 else "Failed", "reason": "InstallCheckFailed"}},
        {"apiVersion": olm, "kind": "InstallPlan", "metadata": {"name": "install-1", "namespace": ns},
         "status": {"phase": "Complete" if n % 25 else "Failed"}},
        *({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
           "metadata": {"name": f"og{i}", "namespace": ns}} for i in range(1 if n % 25 else 2)),
        {"kind": "ConfigMap", "metadata": {"name": "flags", "namespace": ns, "managedFields": [
            {"manager": "kubectl-create", "operation": "Update", "fieldsType": "FieldsV1",
             "fieldsV1": fields}]}},
        {"kind": "RoleBinding", "metadata": {"name": "default-reader", "namespace": ns},
         "roleRef": {"kind": "Role", "name": "reader"},
         "subjects": [{"kind": "ServiceAccount", "name": "default" if n % 10 == 0 else "svc1-sa"}]},
    ]  # fmt: skip


def build(namespaces: int, pods: int) -> Any:
    from sim.kubernetes import Scenario

    scenario = Scenario()
    for n in range(namespaces):
        for obj in [*_namespace(f"team-{n:02d}", n, pods // namespaces), *_operators(f"team-{n:02d}", n)]:
            scenario.add(obj)
    cluster: list[dict[str, Any]] = [
        *({"kind": "Node", "metadata": {"name": f"node-{i}"}, "status": {"conditions": [
            {"type": "Ready", "status": "True" if i else "Unknown"}]}} for i in range(20)),
        {"kind": "StorageClass", "metadata": {"name": "gp3"}, "provisioner": "ebs.csi.aws.com"},
        {"kind": "IngressClass", "metadata": {"name": "nginx"}},
        {"kind": "GatewayClass", "metadata": {"name": "envoy"},
         "status": {"conditions": [{"type": "Accepted", "status": "True"}]}},
        *({"kind": "PersistentVolume", "metadata": {"name": f"pv{i}"},
           "status": {"phase": "Bound" if i else "Released"}} for i in range(20)),
        {"kind": "ValidatingWebhookConfiguration", "metadata": {"name": "policy"}, "webhooks": [
            {"name": "p.example.com",
             "clientConfig": {"service": {"namespace": "team-00", "name": "svc3"}}}]},
        *({"apiVersion": "olm.operatorframework.io/v1", "kind": kind,
           "metadata": {"name": f"{kind.lower()}-{i}"},
           "status": {"conditions": [{"type": cond, "status": "True" if i else "False", "reason": "Failed"}]}}
          for kind, cond in (("ClusterCatalog", "Serving"), ("ClusterExtension", "Installed"))
          for i in range(3)),
    ]  # fmt: skip
    for obj in cluster:
        scenario.add(obj)
    return scenario
