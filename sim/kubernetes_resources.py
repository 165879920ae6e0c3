"""The API paths the Kubernetes simulator serves: prefix → plural → resource. Only what our
read-only ClusterRole (deploy/base/rbac.yaml) grants; tests keep the two in step."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    kind: str
    plural: str
    api_version: str
    namespaced: bool
    metadata_only: bool = False


# prefix → plural → resource. Only what our read-only ClusterRole grants.
_RESOURCES: dict[str, dict[str, Resource]] = {
    "/api/v1": {
        r.plural: r
        for r in (
            Resource("Pod", "pods", "v1", True),
            Resource("Service", "services", "v1", True),
            Resource("Event", "events", "v1", True),
            Resource("PersistentVolumeClaim", "persistentvolumeclaims", "v1", True),
            Resource("Node", "nodes", "v1", False),
            Resource("Namespace", "namespaces", "v1", False),
            Resource("ServiceAccount", "serviceaccounts", "v1", True),
            Resource("PersistentVolume", "persistentvolumes", "v1", False),
            Resource("ConfigMap", "configmaps", "v1", True, metadata_only=True),
            Resource("Secret", "secrets", "v1", True, metadata_only=True),
        )
    },
    "/apis/discovery.k8s.io/v1": {
        "endpointslices": Resource("EndpointSlice", "endpointslices", "discovery.k8s.io/v1", True)
    },
    "/apis/networking.k8s.io/v1": {
        r.plural: r
        for r in (
            Resource("Ingress", "ingresses", "networking.k8s.io/v1", True),
            Resource("IngressClass", "ingressclasses", "networking.k8s.io/v1", False),
            Resource("NetworkPolicy", "networkpolicies", "networking.k8s.io/v1", True),
        )
    },
    "/apis/policy/v1": {
        "poddisruptionbudgets": Resource("PodDisruptionBudget", "poddisruptionbudgets", "policy/v1", True)
    },
    "/apis/rbac.authorization.k8s.io/v1": {
        r.plural: r
        for r in (
            Resource("Role", "roles", "rbac.authorization.k8s.io/v1", True),
            Resource("RoleBinding", "rolebindings", "rbac.authorization.k8s.io/v1", True),
        )
    },
    "/apis/storage.k8s.io/v1": {
        "storageclasses": Resource("StorageClass", "storageclasses", "storage.k8s.io/v1", False)
    },
    "/apis/admissionregistration.k8s.io/v1": {
        r.plural: r
        for r in (
            Resource(
                "MutatingWebhookConfiguration",
                "mutatingwebhookconfigurations",
                "admissionregistration.k8s.io/v1",
                False,
            ),
            Resource(
                "ValidatingWebhookConfiguration",
                "validatingwebhookconfigurations",
                "admissionregistration.k8s.io/v1",
                False,
            ),
        )
    },
    "/apis/gateway.networking.k8s.io/v1": {
        r.plural: r
        for r in (
            Resource("Gateway", "gateways", "gateway.networking.k8s.io/v1", True),
            Resource("HTTPRoute", "httproutes", "gateway.networking.k8s.io/v1", True),
            Resource("GatewayClass", "gatewayclasses", "gateway.networking.k8s.io/v1", False),
        )
    },
    "/apis/operators.coreos.com/v1alpha1": {
        r.plural: r
        for r in (
            Resource("Subscription", "subscriptions", "operators.coreos.com/v1alpha1", True),
            Resource("CatalogSource", "catalogsources", "operators.coreos.com/v1alpha1", True),
            Resource(
                "ClusterServiceVersion", "clusterserviceversions", "operators.coreos.com/v1alpha1", True
            ),
            Resource("InstallPlan", "installplans", "operators.coreos.com/v1alpha1", True),
        )
    },
    "/apis/operators.coreos.com/v1": {
        "operatorgroups": Resource("OperatorGroup", "operatorgroups", "operators.coreos.com/v1", True)
    },
    "/apis/olm.operatorframework.io/v1": {
        r.plural: r
        for r in (
            Resource("ClusterCatalog", "clustercatalogs", "olm.operatorframework.io/v1", False),
            Resource("ClusterExtension", "clusterextensions", "olm.operatorframework.io/v1", False),
        )
    },
    "/apis/apps/v1": {
        r.plural: r
        for r in (
            Resource("Deployment", "deployments", "apps/v1", True),
            Resource("StatefulSet", "statefulsets", "apps/v1", True),
            Resource("DaemonSet", "daemonsets", "apps/v1", True),
            Resource("ReplicaSet", "replicasets", "apps/v1", True),
            Resource("ControllerRevision", "controllerrevisions", "apps/v1", True),
        )
    },
    "/apis/batch/v1": {
        r.plural: r
        for r in (
            Resource("Job", "jobs", "batch/v1", True),
            Resource("CronJob", "cronjobs", "batch/v1", True),
        )
    },
    "/apis/autoscaling/v2": {
        "horizontalpodautoscalers": Resource(
            "HorizontalPodAutoscaler", "horizontalpodautoscalers", "autoscaling/v2", True
        )
    },
}
