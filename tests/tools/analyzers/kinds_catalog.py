"""One realistic fault per failure kind (k8sgpt's analyzer tests' kinds and ours), each with a
healthy control of the same kind that must raise nothing. Namespaced cases spread over a few
namespaces (at most 15 faults each, so offline mode can show a namespace's faults in full)."""

from __future__ import annotations

from tests.tools.analyzers import kinds_more
from tests.tools.analyzers.kinds_builders import (
    T0,
    Case,
    Obj,
    configmap,
    container,
    cronjob,
    deployment,
    event,
    healthy_node_conditions,
    hpa,
    job,
    meta,
    node,
    pod,
    running,
    secret,
    service,
    simple,
)

APPS, BATCH, NET, EDGE, SCALE, CONF = "storefront", "batch", "net", "edge", "scale", "conf"
NET_V1 = "networking.k8s.io/v1"
GW_V1 = "gateway.networking.k8s.io/v1"
ADM_V1 = "admissionregistration.k8s.io/v1"
RBAC_V1 = "rbac.authorization.k8s.io/v1"


def _terminated(code: int, reason: str = "Error") -> Obj:
    return {
        "name": "app",
        "image": "x",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": code, "reason": reason, "finishedAt": T0}},
    }


def _waiting(reason: str, message: str) -> Obj:
    return {
        "name": "app",
        "image": "x",
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": reason, "message": message}},
    }


def _pods() -> list[Case]:
    return [
        Case(
            "evicted-pod",
            ("pod_evicted", "pod", "cache-7f9-evict"),
            "The node was low on resource: memory",
            [
                pod(
                    APPS,
                    "cache-7f9-evict",
                    phase="Failed",
                    statuses=[],
                    status={
                        "reason": "Evicted",
                        "message": "The node was low on resource: memory. Threshold quantity: 100Mi.",
                    },
                )
            ],
            [pod(APPS, "cache-7f9-done", phase="Succeeded", statuses=[_terminated(0, "Completed")])],
        ),
        Case(
            "sandbox",
            ("pod_sandbox", "pod", "api-5c-sandbox"),
            "failed to assign an IP address to container",
            [
                pod(
                    APPS,
                    "api-5c-sandbox",
                    phase="Pending",
                    spec={"initContainers": [container("init-config")]},
                    statuses=[_waiting("ContainerCreating", "")],
                    status={"initContainerStatuses": [running("init-config", ready=False)]},
                ),
                event(
                    APPS,
                    "Pod",
                    "api-5c-sandbox",
                    "FailedCreatePodSandBox",
                    "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network "
                    'for sandbox "4f1c": plugin type="aws-cni" failed (add): '
                    "failed to assign an IP address to container",
                ),
            ],
            [pod(APPS, "api-5c-fine")],
        ),
        Case(
            "prestart-hook",
            ("container_waiting", "pod", "web-hook-x1"),
            "PreStartHookError",
            [
                pod(
                    APPS,
                    "web-hook-x1",
                    statuses=[_waiting("PreStartHookError", "hook /bin/warm-cache exited 1")],
                )
            ],
            [pod(APPS, "web-hook-ok", phase="Pending", statuses=[_waiting("ContainerCreating", "")])],
        ),
        Case(
            "failed-nonzero-exit",
            ("container_failed", "pod", "report-gen-once"),
            "exit code 3",
            [
                pod(
                    APPS,
                    "report-gen-once",
                    phase="Failed",
                    spec={"restartPolicy": "Never"},
                    statuses=[_terminated(3)],
                )
            ],
            [
                pod(
                    APPS,
                    "report-gen-ok",
                    phase="Succeeded",
                    spec={"restartPolicy": "Never"},
                    statuses=[_terminated(0)],
                )
            ],
            logs={
                (APPS, "report-gen-once", "app", False): ["2026-11-26T09:00:01Z ERROR s3 upload denied: 403"]
            },
        ),
        Case(
            "log-errors-previous",
            ("log_errors", "pod", "worker-restarted"),
            "redis: connection refused",
            [
                pod(
                    APPS,
                    "worker-restarted",
                    statuses=[running(restarts=2, last={"exitCode": 1, "reason": "Error", "finishedAt": T0})],
                )
            ],
            [pod(APPS, "worker-steady")],
            logs={
                (APPS, "worker-restarted", "app", True): [
                    "2026-11-26T08:59:58Z INFO starting worker",
                    "2026-11-26T08:59:59Z ERROR redis: connection refused (redis-master:6379)",
                ]
            },
        ),
        Case(
            "privileged",
            ("privileged_container", "pod", "debug-shell"),
            "securityContext.privileged=true",
            [
                pod(
                    APPS,
                    "debug-shell",
                    spec={"containers": [container(securityContext={"privileged": True})]},
                )
            ],
            [
                pod(
                    APPS,
                    "plain-shell",
                    spec={"containers": [container(securityContext={"privileged": False})]},
                )
            ],
        ),
        Case(
            "scheduling-gated",
            ("scheduling_gated", "pod", "batch-gated"),
            "example.com/quota-check",
            [
                pod(
                    APPS,
                    "batch-gated",
                    phase="Pending",
                    statuses=[],
                    spec={"schedulingGates": [{"name": "example.com/quota-check"}]},
                    status={
                        "conditions": [
                            {
                                "type": "PodScheduled",
                                "status": "False",
                                "reason": "SchedulingGated",
                                "message": "Scheduling is blocked due to non-empty scheduling gates",
                            }
                        ]
                    },
                )
            ],
            [],
        ),
    ]


def _jobs() -> list[Case]:
    return [
        Case(
            "job-suspended",
            ("job_suspended", "job", "reindex"),
            "suspended",
            [job(BATCH, "reindex", spec={"suspend": True})],
            [
                job(
                    BATCH,
                    "reindex-ok",
                    status={"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]},
                )
            ],
        ),
        Case(
            "job-failing-before-condition",
            ("job_failing", "job", "import-users"),
            "BackoffLimitExceeded",
            [
                job(BATCH, "import-users", status={"failed": 4, "active": 0}),
                event(
                    BATCH,
                    "Job",
                    "import-users",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                ),
            ],
            [job(BATCH, "import-running", status={"active": 1})],
        ),
        Case(
            "cronjob-invalid-schedule",
            ("cronjob", "cronjob", "nightly-bad"),
            "invalid schedule",
            [cronjob(BATCH, "nightly-bad", "0 25 * * *")],
            [cronjob(BATCH, "nightly-ok", "30 2 * * 1-5")],
        ),
        Case(
            "cronjob-suspended",
            ("cronjob", "cronjob", "cleanup-paused"),
            "suspended",
            [cronjob(BATCH, "cleanup-paused", "@hourly", suspend=True)],
            [cronjob(BATCH, "cleanup-ok", "*/15 * * * *", suspend=False)],
        ),
        Case(
            "cronjob-negative-deadline",
            ("cronjob", "cronjob", "backup-deadline"),
            "negative startingDeadlineSeconds",
            [cronjob(BATCH, "backup-deadline", "0 3 * * *", startingDeadlineSeconds=-60)],
            [cronjob(BATCH, "backup-ok", "0 3 * * *", startingDeadlineSeconds=300)],
        ),
        Case(
            "replicaset-failed-create",
            ("replicaset_failure", "replicaset", "legacy-rs"),
            "exceeded quota",
            [
                simple(
                    "apps/v1",
                    "ReplicaSet",
                    BATCH,
                    "legacy-rs",
                    spec={
                        "replicas": 2,
                        "selector": {"matchLabels": {"app": "legacy"}},
                        "template": {
                            "metadata": {"labels": {"app": "legacy"}},
                            "spec": {"containers": [container()]},
                        },
                    },
                    status={
                        "replicas": 0,
                        "conditions": [
                            {
                                "type": "ReplicaFailure",
                                "status": "True",
                                "reason": "FailedCreate",
                                "message": 'pods "legacy-rs-abc" is forbidden: exceeded quota: team-quota, '
                                "requested: cpu=2",
                            }
                        ],
                    },
                )
            ],
            [],
        ),
        Case(
            "deployment-replica-failure",
            ("workload_unavailable", "deployment", "quota-web"),
            "exceeded quota",
            [
                {
                    **deployment(BATCH, "quota-web", replicas=3, available=1),
                    "status": {
                        "replicas": 1,
                        "availableReplicas": 1,
                        "readyReplicas": 1,
                        "conditions": [
                            {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
                            {
                                "type": "ReplicaFailure",
                                "status": "True",
                                "reason": "FailedCreate",
                                "message": 'pods "quota-web-5d-x" is forbidden: exceeded quota: team-quota',
                            },
                        ],
                    },
                }
            ],
            [deployment(BATCH, "steady-web")],
        ),
        Case(
            "statefulset-events",
            ("workload_unavailable", "statefulset", "kafka"),
            "create Pod kafka-1 in StatefulSet kafka failed",
            [
                simple(
                    "apps/v1",
                    "StatefulSet",
                    BATCH,
                    "kafka",
                    spec={
                        "replicas": 3,
                        "serviceName": "kafka",
                        "selector": {"matchLabels": {"app": "kafka"}},
                        "template": {
                            "metadata": {"labels": {"app": "kafka"}},
                            "spec": {"containers": [container()]},
                        },
                    },
                    status={"replicas": 1, "readyReplicas": 1, "availableReplicas": 1},
                ),
                service(BATCH, "kafka"),
                event(
                    BATCH,
                    "StatefulSet",
                    "kafka",
                    "FailedCreate",
                    'create Pod kafka-1 in StatefulSet kafka failed error: pods "kafka-1" is forbidden',
                ),
            ],
            [],
        ),
        Case(
            "statefulset-service-missing",
            ("statefulset_service_missing", "statefulset", "zookeeper"),
            "spec.serviceName zk-headless",
            [
                simple(
                    "apps/v1",
                    "StatefulSet",
                    BATCH,
                    "zookeeper",
                    spec={
                        "replicas": 0,
                        "serviceName": "zk-headless",
                        "selector": {"matchLabels": {"app": "zk"}},
                        "template": {
                            "metadata": {"labels": {"app": "zk"}},
                            "spec": {"containers": [container()]},
                        },
                    },
                    status={"replicas": 0},
                )
            ],
            [],
        ),
    ]


def _network() -> list[Case]:
    probe = 'Readiness probe failed: Get "http://10.1.2.3:8080/ready": context deadline exceeded'
    unready = pod(NET, "checkout-7d-unready", labels={"app": "checkout"}, statuses=[running(ready=False)])
    return [
        Case(
            "service-no-endpoints",
            ("service_endpoints", "service", "billing"),
            "no pod matches its selector app=billing",
            [service(NET, "billing")],
            [service(NET, "catalog"), pod(NET, "catalog-5d-a1", labels={"app": "catalog"})],
        ),
        Case(
            "service-not-ready-endpoints",
            ("service_endpoints", "service", "checkout"),
            "context deadline exceeded",
            [
                service(NET, "checkout"),
                unready,
                event(NET, "Pod", "checkout-7d-unready", "Unhealthy", probe),
            ],
            [],
        ),
        Case(
            "netpol-selects-nothing",
            ("network_policy", "networkpolicy", "allow-legacy"),
            "selects no pod",
            [
                simple(
                    NET_V1,
                    "NetworkPolicy",
                    NET,
                    "allow-legacy",
                    spec={"podSelector": {"matchLabels": {"app": "legacy-api"}}, "policyTypes": ["Ingress"]},
                )
            ],
            [
                simple(
                    NET_V1,
                    "NetworkPolicy",
                    NET,
                    "allow-catalog",
                    spec={"podSelector": {"matchLabels": {"app": "catalog"}}, "policyTypes": ["Ingress"]},
                ),
                pod(NET, "catalog-5d-b2", labels={"app": "catalog"}),
            ],
        ),
        Case(
            "pdb-blocks-disruption",
            ("pdb", "pdb", "search-pdb"),
            "InsufficientPods",
            [
                pod(NET, "search-0", labels={"app": "search"}),
                simple(
                    "policy/v1",
                    "PodDisruptionBudget",
                    NET,
                    "search-pdb",
                    spec={"minAvailable": 2, "selector": {"matchLabels": {"app": "search"}}},
                    status={
                        "currentHealthy": 1,
                        "desiredHealthy": 2,
                        "disruptionsAllowed": 0,
                        "expectedPods": 1,
                        "conditions": [
                            {"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods"}
                        ],
                    },
                ),
            ],
            [
                pod(NET, "catalog-5d-c3", labels={"app": "catalog"}),
                simple(
                    "policy/v1",
                    "PodDisruptionBudget",
                    NET,
                    "catalog-pdb",
                    spec={"maxUnavailable": 1, "selector": {"matchLabels": {"app": "catalog"}}},
                    status={
                        "currentHealthy": 3,
                        "desiredHealthy": 2,
                        "disruptionsAllowed": 1,
                        "conditions": [
                            {"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods"}
                        ],
                    },
                ),
            ],
        ),
        Case(
            "pdb-selects-nothing",
            ("pdb", "pdb", "old-api-pdb"),
            "expected labels app=old-api",
            [
                simple(
                    "policy/v1",
                    "PodDisruptionBudget",
                    NET,
                    "old-api-pdb",
                    spec={"minAvailable": 1, "selector": {"matchLabels": {"app": "old-api"}}},
                    status={
                        "currentHealthy": 0,
                        "desiredHealthy": 1,
                        "disruptionsAllowed": 0,
                        "expectedPods": 0,
                    },
                )
            ],
            [],
        ),
    ]


def _edge() -> list[Case]:
    def ingress(name: str, cls: str, backend: str, tls: str | None = None) -> Obj:
        spec: Obj = {
            "ingressClassName": cls,
            "rules": [
                {
                    "host": f"{name}.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": backend, "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        }
        if tls:
            spec["tls"] = [{"hosts": [f"{name}.example.com"], "secretName": tls}]
        return simple(NET_V1, "Ingress", EDGE, name, spec=spec)

    web = [service(EDGE, "web"), pod(EDGE, "web-6c-a", labels={"app": "web"}), secret(EDGE, "web-tls")]
    nginx = simple(NET_V1, "IngressClass", None, "nginx", spec={"controller": "k8s.io/ingress-nginx"})
    gw_class = simple(
        GW_V1,
        "GatewayClass",
        None,
        "envoy",
        spec={"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
        status={"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]},
    )
    ok_conditions = [{"type": "Accepted", "status": "True"}, {"type": "Programmed", "status": "True"}]

    def gateway(name: str, cls: str, conditions: list[Obj], allowed: str = "Same") -> Obj:
        return simple(
            GW_V1,
            "Gateway",
            EDGE,
            name,
            spec={
                "gatewayClassName": cls,
                "listeners": [
                    {
                        "name": "http",
                        "port": 80,
                        "protocol": "HTTP",
                        "allowedRoutes": {"namespaces": {"from": allowed}},
                    }
                ],
            },
            status={"conditions": conditions},
        )

    def route(name: str, ns: str, parent: str, backend: str, port: int = 80) -> Obj:
        return simple(
            GW_V1,
            "HTTPRoute",
            ns,
            name,
            spec={
                "parentRefs": [{"name": parent, "namespace": EDGE}],
                "rules": [{"backendRefs": [{"name": backend, "port": port}]}],
            },
        )

    return [
        Case(
            "ingress-class-missing",
            ("ingress", "ingress", "shop-ing"),
            "IngressClass traefik, which does not exist",
            [ingress("shop-ing", "traefik", "web"), *web, nginx],
            [ingress("web-ing", "nginx", "web")],
        ),
        Case(
            "ingress-backend-missing",
            ("ingress", "ingress", "api-ing"),
            "Service api-v2, which does not exist",
            [ingress("api-ing", "nginx", "api-v2"), *web, nginx],
            [ingress("web-ing2", "nginx", "web")],
        ),
        Case(
            "ingress-tls-missing",
            ("ingress", "ingress", "secure-ing"),
            "Secret secure-tls, which does not exist",
            [ingress("secure-ing", "nginx", "web", tls="secure-tls"), *web, nginx],
            [ingress("web-ing3", "nginx", "web", tls="web-tls")],
        ),
        Case(
            "gateway-class-missing",
            ("gateway", "gateway", "public-gw"),
            "GatewayClass istio does not exist",
            [gateway("public-gw", "istio", []), gw_class],
            [gateway("envoy-gw", "envoy", ok_conditions)],
        ),
        Case(
            "gateway-not-programmed",
            ("gateway", "gateway", "internal-gw"),
            "AddressNotAssigned",
            [
                gateway(
                    "internal-gw",
                    "envoy",
                    [
                        {"type": "Accepted", "status": "True"},
                        {
                            "type": "Programmed",
                            "status": "False",
                            "reason": "AddressNotAssigned",
                            "message": "No addresses have been assigned to the Gateway",
                        },
                    ],
                ),
                gw_class,
            ],
            [],
        ),
        Case(
            "httproute-gateway-missing",
            ("httproute", "httproute", "shop-route"),
            "parent Gateway edge/missing-gw does not exist",
            [
                route("shop-route", EDGE, "missing-gw", "web"),
                gateway("envoy-gw2", "envoy", ok_conditions),
                gw_class,
                *web,
            ],
            [route("web-route", EDGE, "envoy-gw2", "web")],
        ),
        Case(
            "httproute-backend-missing",
            ("httproute", "httproute", "api-route"),
            "backend Service edge/api-v3 does not exist",
            [
                route("api-route", EDGE, "envoy-gw3", "api-v3"),
                gateway("envoy-gw3", "envoy", ok_conditions),
                gw_class,
                *web,
            ],
            [],
        ),
        Case(
            "httproute-port-mismatch",
            ("httproute", "httproute", "port-route"),
            "has no port 8443",
            [
                route("port-route", EDGE, "envoy-gw4", "web", 8443),
                gateway("envoy-gw4", "envoy", ok_conditions),
                gw_class,
                *web,
            ],
            [],
        ),
        Case(
            "httproute-other-namespace",
            ("httproute", "httproute", "cross-route"),
            "only accepts routes from its own namespace",
            [
                route("cross-route", NET, "envoy-gw5", "web"),
                gateway("envoy-gw5", "envoy", ok_conditions),
                gw_class,
                *web,
                service(NET, "web", selector={"app": "web"}),
                pod(NET, "web-6c-n", labels={"app": "web"}),
            ],
            [],
        ),
    ]


def _scale_and_config() -> list[Case]:
    no_requests = deployment(SCALE, "api-noreq")
    no_requests["spec"]["template"]["spec"]["containers"] = [{"name": "app", "image": "x"}]
    return [
        Case(
            "hpa-target-missing",
            ("hpa", "hpa", "orders-hpa"),
            "Deployment/orders-v2 does not exist",
            [hpa(SCALE, "orders-hpa", "Deployment", "orders-v2")],
            [hpa(SCALE, "web-hpa", "Deployment", "web-scaled"), deployment(SCALE, "web-scaled")],
        ),
        Case(
            "hpa-unsupported-target",
            ("hpa", "hpa", "ds-hpa"),
            "DaemonSet cannot be scaled",
            [hpa(SCALE, "ds-hpa", "DaemonSet", "fluent-bit")],
            [],
        ),
        Case(
            "hpa-no-requests",
            ("hpa", "hpa", "noreq-hpa"),
            "has no resource requests",
            [hpa(SCALE, "noreq-hpa", "Deployment", "api-noreq"), no_requests],
            [],
        ),
        Case(
            "hpa-scaling-limited",
            ("hpa", "hpa", "burst-hpa"),
            "TooManyReplicas",
            [
                hpa(
                    SCALE,
                    "burst-hpa",
                    "Deployment",
                    "burst",
                    conditions=[
                        {
                            "type": "ScalingLimited",
                            "status": "True",
                            "reason": "TooManyReplicas",
                            "message": "the desired replica count is more than the maximum replica count",
                        }
                    ],
                ),
                deployment(SCALE, "burst"),
            ],
            [
                hpa(
                    SCALE,
                    "idle-hpa",
                    "Deployment",
                    "idle",
                    conditions=[
                        {
                            "type": "ScalingLimited",
                            "status": "True",
                            "reason": "TooFewReplicas",
                            "message": "the desired replica count is less than the minimum replica count",
                        }
                    ],
                ),
                deployment(SCALE, "idle"),
            ],
        ),
        Case(
            "configmap-missing",
            ("missing_reference", "deployment", "mailer"),
            "ConfigMap mailer-config",
            [deployment(CONF, "mailer", volumes=[{"name": "cfg", "configMap": {"name": "mailer-config"}}])],
            [
                deployment(
                    CONF, "renderer", volumes=[{"name": "cfg", "configMap": {"name": "renderer-config"}}]
                ),
                configmap(CONF, "renderer-config"),
            ],
        ),
        Case(
            "configmap-projected-missing",
            ("missing_reference", "deployment", "proj"),
            "ConfigMap proj-ca",
            [
                deployment(
                    CONF,
                    "proj",
                    volumes=[{"name": "p", "projected": {"sources": [{"configMap": {"name": "proj-ca"}}]}}],
                )
            ],
            [
                deployment(
                    CONF,
                    "proj-opt",
                    volumes=[
                        {
                            "name": "p",
                            "projected": {"sources": [{"configMap": {"name": "gone", "optional": True}}]},
                        }
                    ],
                )
            ],
        ),
        Case(
            "configmap-unused",
            ("configmap_unused", "configmap", "old-flags"),
            "not referenced",
            [configmap(CONF, "old-flags")],
            [configmap(CONF, "kube-root-ca.crt"), configmap(CONF, "dash", labels={"grafana_dashboard": "1"})],
        ),
        Case(
            "secret-missing",
            ("missing_reference", "deployment", "payments-api"),
            "Secret payments-db-password",
            [
                deployment(
                    CONF,
                    "payments-api",
                    containers=[
                        container(
                            env=[
                                {
                                    "name": "DB_PASSWORD",
                                    "valueFrom": {
                                        "secretKeyRef": {"name": "payments-db-password", "key": "password"}
                                    },
                                }
                            ]
                        )
                    ],
                )
            ],
            [],
        ),
        Case(
            "pull-secret-missing",
            ("missing_reference", "daemonset", "log-agent"),
            "image pull Secret regcred",
            [
                simple(
                    "apps/v1",
                    "DaemonSet",
                    CONF,
                    "log-agent",
                    spec={
                        "selector": {"matchLabels": {"app": "log-agent"}},
                        "template": {
                            "metadata": {"labels": {"app": "log-agent"}},
                            "spec": {"containers": [container()], "imagePullSecrets": [{"name": "regcred"}]},
                        },
                    },
                    status={"desiredNumberScheduled": 0},
                )
            ],
            [],
        ),
        Case(
            "serviceaccount-missing",
            ("missing_reference", "deployment", "crawler"),
            "ServiceAccount crawler-sa",
            [deployment(CONF, "crawler", serviceAccountName="crawler-sa")],
            [
                deployment(CONF, "indexer", serviceAccountName="indexer-sa"),
                simple("v1", "ServiceAccount", CONF, "indexer-sa"),
            ],
        ),
        Case(
            "rolebinding-role-missing",
            ("rolebinding", "rolebinding", "deployer-rb"),
            "Role deployer, which does not exist",
            [
                simple(
                    RBAC_V1,
                    "RoleBinding",
                    SCALE,
                    "deployer-rb",
                    roleRef={"kind": "Role", "name": "deployer", "apiGroup": "rbac.authorization.k8s.io"},
                    subjects=[],
                )
            ],
            [
                simple(
                    RBAC_V1,
                    "RoleBinding",
                    SCALE,
                    "reader-rb",
                    roleRef={"kind": "Role", "name": "reader", "apiGroup": "rbac.authorization.k8s.io"},
                    subjects=[],
                ),
                simple(
                    RBAC_V1,
                    "Role",
                    SCALE,
                    "reader",
                    rules=[{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
                ),
            ],
        ),
        Case(
            "rolebinding-wildcard",
            ("rolebinding", "rolebinding", "ops-rb"),
            "wildcard",
            [
                simple(
                    RBAC_V1,
                    "RoleBinding",
                    SCALE,
                    "ops-rb",
                    roleRef={"kind": "Role", "name": "ops-all", "apiGroup": "rbac.authorization.k8s.io"},
                    subjects=[],
                ),
                simple(
                    RBAC_V1,
                    "Role",
                    SCALE,
                    "ops-all",
                    rules=[{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
                ),
            ],
            [],
        ),
        Case(
            "pvc-storageclass-missing",
            ("pending_pvc", "pvc", "uploads"),
            "StorageClass premium-rwo does not exist",
            [
                simple(
                    "v1",
                    "PersistentVolumeClaim",
                    SCALE,
                    "uploads",
                    spec={
                        "storageClassName": "premium-rwo",
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "20Gi"}},
                    },
                    status={"phase": "Pending"},
                ),
                simple(
                    "storage.k8s.io/v1", "StorageClass", None, "standard", provisioner="pd.csi.storage.gke.io"
                ),
            ],
            [
                simple(
                    "v1",
                    "PersistentVolumeClaim",
                    SCALE,
                    "logs",
                    spec={
                        "storageClassName": "standard",
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "5Gi"}},
                    },
                    status={"phase": "Bound", "capacity": {"storage": "5Gi"}},
                )
            ],
        ),
    ]


def _cluster() -> list[Case]:
    def sc(name: str, default: bool, provisioner: str = "ebs.csi.aws.com") -> Obj:
        ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
        return simple(
            "storage.k8s.io/v1", "StorageClass", None, name, md={"annotations": ann}, provisioner=provisioner
        )

    def pv(name: str, phase: str, **status: str) -> Obj:
        return simple(
            "v1",
            "PersistentVolume",
            None,
            name,
            spec={
                "capacity": {"storage": "10Gi"},
                "storageClassName": "gp3",
                "persistentVolumeReclaimPolicy": "Retain",
                "claimRef": {"namespace": "conf", "name": f"claim-{name}"},
            },
            status={"phase": phase, **status},
        )

    def webhook(kind: str, name: str, svc_ns: str, svc: str, policy: str = "Fail") -> Obj:
        return simple(
            ADM_V1,
            kind,
            None,
            name,
            webhooks=[
                {
                    "name": f"{name}.example.com",
                    "failurePolicy": policy,
                    "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                    "clientConfig": {
                        "service": {"namespace": svc_ns, "name": svc, "path": "/validate", "port": 443}
                    },
                }
            ],
        )

    sys_ns = "platform"
    hooks_ok = [service(sys_ns, "policy-svc"), pod(sys_ns, "policy-5c-a", labels={"app": "policy-svc"})]
    return [
        Case(
            "node-condition-unknown",
            ("node_pressure", "node", "node-d"),
            "DiskPressure (Unknown)",
            [
                node(
                    "node-d",
                    [
                        *healthy_node_conditions()[:1],
                        {
                            "type": "DiskPressure",
                            "status": "Unknown",
                            "reason": "NodeStatusUnknown",
                            "message": "Kubelet stopped posting node status.",
                        },
                        healthy_node_conditions()[3],
                    ],
                )
            ],
            [node("node-e", healthy_node_conditions())],
            cluster_scoped=True,
        ),
        Case(
            "node-not-ready-empty-status",
            ("node_not_ready", "node", "node-f"),
            "Ready=",
            [node("node-f", [{"type": "Ready", "status": ""}])],
            [],
            cluster_scoped=True,
        ),
        Case(
            "storageclass-multiple-default",
            ("storageclass", "storageclass", "gp2"),
            "2 StorageClasses are marked default",
            [sc("gp2", True), sc("gp3", True)],
            [sc("io2", False)],
            cluster_scoped=True,
        ),
        Case(
            "storageclass-no-provisioner",
            ("storageclass", "storageclass", "local-disks"),
            "no-provisioner",
            [sc("local-disks", False, "kubernetes.io/no-provisioner")],
            [],
            cluster_scoped=True,
        ),
        Case(
            "pv-released",
            ("pv", "pv", "pv-old"),
            "Released",
            [pv("pv-old", "Released")],
            [pv("pv-bound", "Bound")],
            cluster_scoped=True,
        ),
        Case(
            "pv-failed",
            ("pv", "pv", "pv-bad"),
            "failed to delete volume",
            [pv("pv-bad", "Failed", message="failed to delete volume vol-0abc: VolumeInUse")],
            [],
            cluster_scoped=True,
        ),
        Case(
            "validating-webhook-service-missing",
            ("admission_webhook", "validatingwebhook", "policy-check"),
            "Service platform/policy-gone does not exist",
            [webhook("ValidatingWebhookConfiguration", "policy-check", sys_ns, "policy-gone")],
            [webhook("ValidatingWebhookConfiguration", "policy-ok", sys_ns, "policy-svc"), *hooks_ok],
            cluster_scoped=True,
        ),
        Case(
            "mutating-webhook-no-endpoints",
            ("admission_webhook", "mutatingwebhook", "sidecar-injector"),
            "has no ready endpoint",
            [
                webhook("MutatingWebhookConfiguration", "sidecar-injector", sys_ns, "injector"),
                service(sys_ns, "injector"),
            ],
            [webhook("MutatingWebhookConfiguration", "defaults-ok", sys_ns, "policy-svc"), *hooks_ok],
            cluster_scoped=True,
        ),
        Case(
            "gatewayclass-not-accepted",
            ("gatewayclass", "gatewayclass", "legacy-gc"),
            "InvalidParameters",
            [
                simple(
                    GW_V1,
                    "GatewayClass",
                    None,
                    "legacy-gc",
                    spec={"controllerName": "example.com/gw"},
                    status={
                        "conditions": [
                            {
                                "type": "Accepted",
                                "status": "False",
                                "reason": "InvalidParameters",
                                "message": "parametersRef not found",
                            }
                        ]
                    },
                )
            ],
            [],
            cluster_scoped=True,
        ),
    ]


CASES: list[Case] = [
    *_pods(),
    *_jobs(),
    *_network(),
    *_edge(),
    *_scale_and_config(),
    *_cluster(),
    *kinds_more.CASES,
]
NAMESPACES = (APPS, BATCH, NET, EDGE, SCALE, CONF, kinds_more.OPS)
__all__ = ["CASES", "NAMESPACES", "Case", "meta"]
