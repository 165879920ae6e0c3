"""The Kubernetes simulator fixture for the change watcher tests."""

from tests.fixtures.kubernetes import k8s_cluster  # noqa: F401
