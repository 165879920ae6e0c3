"""The seed's role matrix — the one place every permission question is answered.

| role    | metrics / K8s          | recommendations | scheduled jobs |
|---------|------------------------|-----------------|----------------|
| viewer  | own namespaces only    | no              | no             |
| analyst | own namespaces only    | yes             | no             |
| admin   | all namespaces         | yes             | yes            |

Unknown roles grant nothing. Several roles combine by union.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

KNOWN_ROLES = frozenset({"viewer", "analyst", "admin"})


@dataclass(frozen=True)
class Permissions:
    may_query: bool
    all_namespaces: bool
    may_recommend: bool
    may_run_jobs: bool


NO_PERMISSIONS = Permissions(False, False, False, False)

_MATRIX: dict[str, Permissions] = {
    "viewer": Permissions(may_query=True, all_namespaces=False, may_recommend=False, may_run_jobs=False),
    "analyst": Permissions(may_query=True, all_namespaces=False, may_recommend=True, may_run_jobs=False),
    "admin": Permissions(may_query=True, all_namespaces=True, may_recommend=True, may_run_jobs=True),
}


def permissions_for(roles: Iterable[str]) -> Permissions:
    granted = [_MATRIX[r] for r in roles if r in _MATRIX]
    if not granted:
        return NO_PERMISSIONS
    return Permissions(
        may_query=any(p.may_query for p in granted),
        all_namespaces=any(p.all_namespaces for p in granted),
        may_recommend=any(p.may_recommend for p in granted),
        may_run_jobs=any(p.may_run_jobs for p in granted),
    )
