from __future__ import annotations

from tests.fixtures.kubernetes import k8s_cluster  # noqa: F401
from tests.tools.kubernetes.conftest import make_router  # noqa: F401
