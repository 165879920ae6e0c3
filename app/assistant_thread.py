"""The Slack assistant container (issue 11 item 7): when a user opens it
(`assistant_thread_started`) or moves to another channel while it is open
(`assistant_thread_context_changed`), the thread gets a title and suggested prompts that fit
the user's role and scope — worked out here, in the worker, because it needs the identity
service; the HTTP handler only enqueues. Questions typed in the container are ordinary DM
thread messages (answered with status updates while working, like any thread).

Job fields for kind "assistant": channel_id/thread_ts = the container's thread, `command` =
the event type, `text` = the channel the user is looking at (may be empty).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.jobs import Job
from kernel.errors import AuthFailure
from kernel.scope import EffectiveScope

log = logging.getLogger(__name__)

MAX_PROMPTS = 4


class ScopeSource(Protocol):
    async def scope_for(self, job: Job) -> EffectiveScope: ...


def _ns_phrase(scope: EffectiveScope) -> str:
    if scope.namespaces is None:
        return "the cluster"
    names = sorted(scope.namespaces)
    return f"`{names[0]}`" if len(names) == 1 else ", ".join(f"`{n}`" for n in names[:3])


def suggested_prompts(scope: EffectiveScope | None) -> list[dict[str, str]]:
    """Up to four prompts a person with this scope can actually get an answer to."""
    if scope is None or not scope.may_query:
        return [{"title": "How do I get access?", "message": "How do I get access to aiops?"}]
    where = _ns_phrase(scope)
    prompts = [
        {"title": f"What's unhealthy in {where}?", "message": f"What is unhealthy in {where} right now?"},
        {"title": "Any firing alerts?", "message": f"Are there firing alerts in {where}?"},
        {
            "title": "Recent restarts",
            "message": f"Which pods in {where} restarted in the last hour, and why?",
        },
    ]
    if scope.cluster_wide:
        prompts.insert(1, {"title": "Node health", "message": "Are all nodes healthy?"})
    elif scope.may_recommend:
        prompts.append(
            {"title": "What should I fix first?", "message": f"What should I fix first in {where}?"}
        )
    return prompts[:MAX_PROMPTS]


def thread_title(scope: EffectiveScope | None) -> str:
    if scope is None or not scope.may_query:
        return "aiops — not linked yet"
    return f"aiops — {scope.identity.username} · {scope.describe()}"


class AssistantThreads:
    def __init__(self, *, slack: AsyncWebClient, identity: ScopeSource) -> None:
        self._slack = slack
        self._identity = identity

    async def prepare(self, job: Job) -> None:
        """Title + suggested prompts for the container's thread."""
        probe = Job(job_id=job.job_id, kind="dm", channel_id=job.channel_id, user_id=job.user_id, text="")
        scope: EffectiveScope | None
        try:
            scope = await self._identity.scope_for(probe)  # the container is a DM: the user's own scope
        except AuthFailure:
            scope = None  # already audited; the prompts point to the way in
        thread = {"channel_id": job.channel_id, "thread_ts": str(job.thread_ts)}
        try:
            await self._slack.assistant_threads_setTitle(**thread, title=thread_title(scope))
            prompts: Any = suggested_prompts(scope)
            await self._slack.assistant_threads_setSuggestedPrompts(
                **thread, prompts=prompts, title="Try asking:"
            )
        except SlackApiError as exc:  # cosmetic: the container still takes questions
            log.warning("assistant thread set-up failed (%s)", exc.response.get("error"))
