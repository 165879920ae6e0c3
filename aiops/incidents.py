"""Wiring of the incident features (issue 15 items 3 to 5), kept out of bootstrap.py: the incident
memory (Qdrant: the server at QDRANT_URL, else local mode under AIOPS_DATA_DIR/qdrant-incidents),
the triage wrapper that reads it, the resolve-time recorder that writes it and the postmortem, and
the private `/aiops catchup` and `/aiops postmortem` commands."""

from __future__ import annotations

from typing import Any, Protocol

from slack_sdk.web.async_client import AsyncWebClient

from app.agent.base import Agent
from app.commands import Command
from app.config import Secrets, Settings
from app.incidents.commands import CATCHUP, POSTMORTEM, IncidentCommands
from app.incidents.memory import IncidentMemory
from app.incidents.resolve import IncidentRecorder
from app.incidents.triage import IncidentAwareAgent
from app.slack.workspace import SlackWorkspace
from app.stores import Stores
from kernel.audit import AuditSink


class Runtime(Protocol):
    """What these builders read of `aiops.bootstrap.Runtime` (no import back: no cycle)."""

    @property
    def stores(self) -> Stores: ...
    @property
    def slack(self) -> AsyncWebClient: ...
    @property
    def audit(self) -> AuditSink: ...
    @property
    def incidents(self) -> IncidentMemory | None: ...
    @property
    def workspace(self) -> SlackWorkspace: ...


def build_incident_memory(settings: Settings, secrets: Secrets) -> IncidentMemory:
    key = secrets.qdrant_api_key.get_secret_value() if secrets.qdrant_api_key else None
    return IncidentMemory.open(url=settings.qdrant_url, data_dir=settings.data_dir, api_key=key)


def with_incident_memory(agent: Agent, memory: IncidentMemory | None) -> Agent:
    return agent if memory is None else IncidentAwareAgent(inner=agent, memory=memory)


def incident_recorder(runtime: Runtime) -> IncidentRecorder:
    """The postmortem is written on every resolve; the memory only when there is one."""
    return IncidentRecorder(
        pool=runtime.stores.pg, slack=runtime.slack, memory=runtime.incidents, workspace=runtime.workspace
    )


def incident_commands(runtime: Runtime, identity: Any) -> dict[str, Command]:
    """`identity`: the IdentityService (channel scopes too), as for the other private commands."""
    commands = IncidentCommands(
        identity=identity,
        pool=runtime.stores.pg,
        slack=runtime.slack,
        audit=runtime.audit,
        workspace=runtime.workspace,
    )
    return {CATCHUP: commands, POSTMORTEM: commands}
