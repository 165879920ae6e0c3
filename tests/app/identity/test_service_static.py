"""The identity service over the static provider: scope per channel/DM/alert, refusals,
audit rows and the failure counter, and the /aiops subcommands."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import pytest

from app.audit.log import PostgresAuditLog
from app.identity.service import IdentityService
from app.identity.static import StaticProvider, parse_static_identities
from app.jobs import Job
from kernel.errors import AuthFailure, ConfigError
from kernel.metrics import Metrics
from tests.app.identity.support import auth_failures, counter

TEAM_A_CHANNEL = "C0TEAMA"
SHARED_CHANNEL = "C0SHARED"
LOCKED_CHANNEL = "C0LOCKED"


def _users(suffix: str) -> list[dict[str, object]]:
    return [
        {
            "slack_user_id": f"UVIEW{suffix}",
            "sub": f"sub-viewer-{suffix}",
            "preferred_username": "vera",
            "aiops_namespaces": ["team-a", "team-c"],
            "aiops_roles": ["viewer"],
        },
        {
            "slack_user_id": f"UANA{suffix}",
            "sub": f"sub-analyst-{suffix}",
            "preferred_username": "anna",
            "aiops_namespaces": ["team-b"],
            "aiops_roles": ["analyst"],
        },
        {
            "slack_user_id": f"UADM{suffix}",
            "sub": f"sub-admin-{suffix}",
            "preferred_username": "adam",
            "aiops_namespaces": [],
            "aiops_roles": ["admin"],
        },
        {
            "slack_user_id": f"UNOROLE{suffix}",
            "sub": f"sub-norole-{suffix}",
            "preferred_username": "nora",
            "aiops_namespaces": ["team-a"],
            "aiops_roles": ["superuser"],
        },
    ]


@pytest.fixture
def suffix() -> str:
    return uuid.uuid4().hex[:8].upper()


@pytest.fixture
def service(audit_log: PostgresAuditLog, metrics: Metrics, suffix: str) -> IdentityService:
    provider = StaticProvider(identities=parse_static_identities(_users(suffix)), env="dev")
    return IdentityService(
        provider=provider,
        channel_scopes={
            TEAM_A_CHANNEL: frozenset({"team-a"}),
            SHARED_CHANNEL: frozenset({"team-a", "team-b"}),
            LOCKED_CHANNEL: frozenset(),
        },
        audit=audit_log,
        metrics=metrics,
        channel_default="own",  # these tests are about unlisted channels as "no channel scope"
        incident_channel="C0INCIDENT",
    )


def job(
    user: str,
    channel: str = "C0OPEN",
    *,
    kind: str = "mention",
    command: str | None = None,
    alert: dict[str, object] | None = None,
) -> Job:
    return Job(
        job_id=uuid.uuid4().hex,
        kind=kind,
        channel_id=channel,
        user_id=user,
        text="why?",  # type: ignore[arg-type]
        command=command,
        alert=alert,
        event_ts="1.0",
    )


async def test_viewer_in_unscoped_channel_sees_own_namespaces(service: IdentityService, suffix: str) -> None:
    scope = await service.scope_for(job(f"UVIEW{suffix}"))
    assert scope.namespaces == {"team-a", "team-c"}
    assert scope.allows("team-a") and not scope.allows("team-b") and not scope.allows("kube-system")
    assert not scope.allows(None)  # no node-level data for a viewer
    assert not scope.may_recommend
    assert scope.user_id == f"sub-viewer-{suffix}"


async def test_channel_scope_intersects_user_namespaces(service: IdentityService, suffix: str) -> None:
    scope = await service.scope_for(job(f"UVIEW{suffix}", SHARED_CHANNEL))
    assert scope.namespaces == {"team-a"}


async def test_admin_in_scoped_channel_sees_only_the_channel(service: IdentityService, suffix: str) -> None:
    scope = await service.scope_for(job(f"UADM{suffix}", TEAM_A_CHANNEL))
    assert scope.namespaces == {"team-a"}
    assert not scope.allows("team-b") and not scope.allows("kube-system")
    assert not scope.cluster_wide and not scope.allows(None)
    assert scope.may_recommend


async def test_admin_in_dm_sees_everything(service: IdentityService, suffix: str) -> None:
    scope = await service.scope_for(job(f"UADM{suffix}", "D0ADMIN", kind="dm"))
    assert scope.namespaces is None and scope.cluster_wide
    assert scope.allows("kube-system") and scope.allows(None)


async def test_dm_ignores_channel_scopes_and_uses_own(service: IdentityService, suffix: str) -> None:
    scope = await service.scope_for(job(f"UANA{suffix}", "D0ANNA", kind="dm"))
    assert scope.namespaces == {"team-b"} and scope.may_recommend


async def test_unknown_user_refused_audited_counted(
    service: IdentityService, pg_pool: asyncpg.Pool, metrics: Metrics
) -> None:
    stranger = f"USTRANGER{uuid.uuid4().hex[:6].upper()}"
    with pytest.raises(AuthFailure) as info:
        await service.scope_for(job(stranger))
    assert info.value.reason == "unknown_user"
    assert stranger in info.value.user_message and "admin" in info.value.user_message
    assert await auth_failures(pg_pool, stranger) == ["unknown_user"]
    assert counter(metrics, "unknown_user") == 1


async def test_unknown_role_grants_nothing(
    service: IdentityService, suffix: str, pg_pool: asyncpg.Pool
) -> None:
    with pytest.raises(AuthFailure) as info:
        await service.scope_for(job(f"UNOROLE{suffix}"))
    assert info.value.reason == "no_role"
    assert "role" in info.value.user_message
    assert await auth_failures(pg_pool, f"UNOROLE{suffix}") == ["no_role"]


async def test_no_overlap_with_channel_is_refused_with_explanation(
    service: IdentityService, suffix: str, pg_pool: asyncpg.Pool
) -> None:
    with pytest.raises(AuthFailure) as info:
        await service.scope_for(job(f"UANA{suffix}", TEAM_A_CHANNEL))
    assert info.value.reason == "out_of_scope"
    assert "`team-a`" in info.value.user_message and "`team-b`" in info.value.user_message
    assert "DM" in info.value.user_message
    assert await auth_failures(pg_pool, f"UANA{suffix}") == ["out_of_scope"]


async def test_locked_channel_refuses_even_admin(service: IdentityService, suffix: str) -> None:
    with pytest.raises(AuthFailure) as info:
        await service.scope_for(job(f"UADM{suffix}", LOCKED_CHANNEL))
    assert info.value.reason == "out_of_scope"


async def test_alert_scope_is_alert_namespace_within_channel(service: IdentityService) -> None:
    alert = {"commonLabels": {"namespace": "team-a", "alertname": "HighErrorRate"}, "alerts": []}
    scope = await service.scope_for(job("alertmanager", "C0INCIDENT", kind="alert", alert=alert))
    assert scope.namespaces == {"team-a"} and scope.user_id == "alertmanager"
    assert not scope.may_recommend and not scope.allows(None)
    # same alert posted into a channel scoped to other namespaces: nothing readable
    scope = await service.scope_for(
        job("alertmanager", SHARED_CHANNEL, kind="alert", alert={"commonLabels": {"namespace": "team-z"}})
    )
    assert scope.namespaces == frozenset() and not scope.allows("team-z") and not scope.may_query


async def test_alert_group_without_common_namespace_uses_each_alert(service: IdentityService) -> None:
    alert = {
        "commonLabels": {"alertname": "X"},
        "alerts": [
            {"labels": {"namespace": "team-a"}},
            {"labels": {"namespace": "team-b"}},
            {"labels": {"namespace": "Bad|Name"}},
            {"labels": {}},
        ],
    }
    scope = await service.scope_for(job("alertmanager", "C0INCIDENT", kind="alert", alert=alert))
    assert scope.namespaces == {"team-a", "team-b"}


async def test_alert_without_namespace_reads_nothing(service: IdentityService) -> None:
    scope = await service.scope_for(
        job("alertmanager", "C0INCIDENT", kind="alert", alert={"commonLabels": {"alertname": "NodeDown"}})
    )
    assert not scope.may_query and not scope.allows(None) and not scope.allows("default")


async def test_whoami_per_role(service: IdentityService, suffix: str) -> None:
    text = await service.command(job(f"UVIEW{suffix}", SHARED_CHANNEL, kind="command", command="whoami"))
    assert "`vera`" in text and "viewer" in text and "*Recommendations:* no" in text
    assert "`team-a`, `team-c`" in text  # own namespaces
    assert "You may see in this channel (scoped to `team-a`, `team-b`):* team-a" in text
    text = await service.command(job(f"UANA{suffix}", "D0X", kind="command", command="whoami"))
    assert "`anna`" in text and "analyst" in text and "*Recommendations:* yes" in text and "DM" in text
    text = await service.command(job(f"UADM{suffix}", "C0OPEN", kind="command", command="whoami"))
    assert "admin" in text and "*Your namespaces:* all namespaces" in text
    assert "*Scheduled jobs:* yes" in text and "all namespaces" in text


async def test_whoami_unknown_user_tells_how_to_fix(service: IdentityService) -> None:
    text = await service.command(job("UNOBODY", kind="command", command="whoami"))
    assert "identity file" in text


async def test_login_logout_in_static_mode_explain(service: IdentityService, suffix: str) -> None:
    text = await service.command(job(f"UVIEW{suffix}", kind="command", command="login"))
    assert "No login needed" in text
    text = await service.command(job(f"UVIEW{suffix}", kind="command", command="logout"))
    assert "nothing to log out" in text
    assert "/aiops whoami" in await service.command(job(f"UVIEW{suffix}", kind="command", command="help"))


def test_static_mode_refused_outside_dev(tmp_path: Path) -> None:
    path = tmp_path / "ids.yaml"
    path.write_text("- {slack_user_id: U1, sub: s, aiops_roles: [admin]}\n")
    for env in ("prod", "staging"):
        with pytest.raises(ConfigError) as info:
            StaticProvider.from_file(path, env=env)
        assert info.value.setting == "AIOPS_IDENTITY_MODE"
    assert StaticProvider.from_file(path, env="dev").mode == "static"


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{a: 1}", "must be a list"),
        ("- {sub: s}", "slack_user_id"),
        ("- {slack_user_id: U1, sub: s, aiops_roles: admin}", "list of strings"),
        ("- {slack_user_id: U1, sub: s, aiops_namespaces: ['a|b']}", "namespace"),
        ("- {slack_user_id: U1, sub: s}\n- {slack_user_id: U1, sub: t}", "twice"),
        ("- [unclosed", "not valid YAML at line"),
    ],
)
def test_static_file_errors_name_the_problem(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "ids.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        StaticProvider.from_file(path, env="dev")
    assert info.value.setting == "AIOPS_STATIC_IDENTITIES" and fragment in str(info.value)
